package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/util"
)

// aesKey decodes a 43-character EncodingAESKey into the 32-byte AES key.
func aesKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("EncodingAESKey must be 43 characters, not %d", len(encodingAESKey))
	}
	return base64.StdEncoding.DecodeString(encodingAESKey + "=")
}

// decrypt opens a WeCom callback payload: AES-256-CBC with IV = key[:16],
// PKCS#7 padding to 32 bytes, plaintext = 16 random bytes, a 4-byte
// big-endian length, the message, then the receive-id. It returns the
// message and the receive-id. The SDK's DecryptMsg insists on a non-empty
// receive-id; the 智能机器人 callback's is "", hence this.
func decrypt(encodingAESKey, encrypted string) (msg []byte, receiveID string, err error) {
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return nil, "", err
	}
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", fmt.Errorf("encrypt is not base64: %w", err)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", errors.New("ciphertext is not a whole number of AES blocks")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", err
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > 32 || pad > len(pt) {
		return nil, "", errors.New("bad padding")
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, "", errors.New("plaintext too short")
	}
	n := int(binary.BigEndian.Uint32(pt[16:20]))
	if n > len(pt)-20 {
		return nil, "", errors.New("message length larger than the plaintext")
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}

// verify checks msg_signature: SHA-1 of token, timestamp, nonce and the
// encrypted payload, sorted. Constant time, though the inputs are public.
func verify(token, timestamp, nonce, encrypted, signature string) bool {
	want := util.Signature(token, timestamp, nonce, encrypted)
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
