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

// FuzzDecryptMedia: whatever a picture link serves decrypts or fails; never
// a panic, and never more bytes than came in.
func FuzzDecryptMedia(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Add(make([]byte, 32))
	f.Add([]byte(`{"errcode":40007,"errmsg":"invalid media_id"}`))
	f.Fuzz(func(t *testing.T, ct []byte) {
		n := len(ct)
		plain, err := decryptMedia(keyB, ct)
		if err == nil && len(plain) >= n {
			t.Fatalf("%d bytes of plaintext from %d of ciphertext", len(plain), n)
		}
	})
}
