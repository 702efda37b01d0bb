// Package mediatest makes pictures for tests: QR codes and files that
// claim sizes they do not have.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// QRPNG is a PNG of a QR code holding content, size pixels square on a
// white page twice as wide, as a QR code sits on a poster.
func QRPNG(content string, size int) []byte {
	m, err := qrcode.NewQRCodeWriter().Encode(content, gozxing.BarcodeFormat_QR_CODE, size, size, nil)
	if err != nil {
		panic(err)
	}
	page := image.NewGray(image.Rect(0, 0, 2*size, size+size/2))
	draw.Draw(page, page.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(page, image.Rect(size/2, size/4, size/2+size, size/4+size), m, image.Point{}, draw.Src)
	var b bytes.Buffer
	if err := png.Encode(&b, page); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// ClaimedPNG is a valid small PNG whose header says it is w × h: what a
// decompression bomb looks like before its pixels are decoded.
func ClaimedPNG(w, h uint32) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		panic(err)
	}
	data := b.Bytes()
	// Signature (8), then IHDR: length (4), "IHDR" (4), width, height, …, CRC.
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}
