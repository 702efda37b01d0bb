package bot

import (
	"errors"
	"fmt"
)

// Error codes for errors a user should see. Anything without a code is an
// internal error: logged in full, answered with a generic polite reply.
const (
	EINVALID   = "invalid"     // the user's input cannot be used
	ENOTFOUND  = "not_found"   // what the user asked for does not exist
	EFORBIDDEN = "forbidden"   // the user may not do this here
	ECONFLICT  = "conflict"    // the state does not allow it
	EINTERNAL  = "internal"    // a bug or an outage; the user gets a generic reply
	EDUPLICATE = "duplicate"   // the platform delivered the same message again
	ETOOLARGE  = "too_large"   // the message is larger than we accept
	EEMPTY     = "empty"       // the message has no text
	EBADTEXT   = "bad_text"    // the message is not valid UTF-8
	EUNKNOWN   = "unknown_cmd" // no handler understood the message
)

// Error is an error with a code and a message meant for the user, in Chinese.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("fanzha: %s: %s", e.Code, e.Message) }

// Errorf returns an Error with code and a formatted user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or EINTERNAL if it carries none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic apology so no detail leaks into a group chat.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "抱歉，机器人刚才出了点问题，请稍后再试。如果一直不行，请联系群里的管理员。"
}
