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
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", fmt.Errorf("encrypt is not base64: %w", err)
	}
	pt, err := openCBC(encodingAESKey, ct)
	if err != nil {
		return nil, "", err
	}
	if len(pt) < 20 {
		return nil, "", errors.New("plaintext too short")
	}
	n := int(binary.BigEndian.Uint32(pt[16:20]))
	if n > len(pt)-20 {
		return nil, "", errors.New("message length larger than the plaintext")
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}

// decryptMedia opens a picture a 智能机器人 callback links to: the same
// cipher as callbacks (AES-256-CBC, key from the EncodingAESKey, IV =
// key[:16], PKCS#7 to 32 bytes), but the plaintext is the file itself, with
// no random prefix, length or receive-id. ct is decrypted in place.
func decryptMedia(encodingAESKey string, ct []byte) ([]byte, error) {
	return openCBC(encodingAESKey, ct)
}

// blockPad is the block size WeCom pads to: 32 bytes, though AES blocks
// are 16.
const blockPad = 32

// openCBC decrypts ct in place with WeCom's cipher and strips the padding,
// refusing a ciphertext that is not whole blocks or whose padding is not
// PKCS#7 (a tampered or truncated ciphertext, or the wrong key).
func openCBC(encodingAESKey string, ct []byte) ([]byte, error) {
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	return openCBCKey(key, ct)
}

// openCBCKey is openCBC with the AES key itself.
func openCBCKey(key, ct []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("ciphertext is not a whole number of AES blocks")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad < 1 || pad > blockPad || pad > len(ct) {
		return nil, errors.New("bad padding")
	}
	for _, b := range ct[len(ct)-pad:] {
		if int(b) != pad {
			return nil, errors.New("bad padding")
		}
	}
	return ct[:len(ct)-pad], nil
}

// verify checks msg_signature: SHA-1 of token, timestamp, nonce and the
// encrypted payload, sorted. Constant time, though the inputs are public.
func verify(token, timestamp, nonce, encrypted, signature string) bool {
	want := util.Signature(token, timestamp, nonce, encrypted)
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
