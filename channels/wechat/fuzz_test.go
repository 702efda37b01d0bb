package wechat

import "testing"

// FuzzDecrypt: any callback ciphertext decrypts or fails; never a panic
// (a forged callback must not crash the bot).
func FuzzDecrypt(f *testing.F) {
	f.Add(encryptA)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("!!notbase64")
	f.Fuzz(func(t *testing.T, encrypted string) {
		decrypt(keyA, encrypted)
	})
}
