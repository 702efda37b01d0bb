package binding_test

import (
	"context"
	"strings"
	"testing"

	"fanzha/bot"
	"fanzha/bot/bottest"
	"fanzha/handlers/binding"
	"fanzha/store"
)

// TestBindingNeedsALinkedCounsellor: on a real platform a student cannot
// claim the class group; a 老师 linked to an admin-created account can,
// and the class is named with its school.
func TestBindingNeedsALinkedCounsellor(t *testing.T) {
	h := bottest.New(t, func(h *bottest.Harness, r *bot.Router) {
		binding.RegisterWith(r, &binding.Binding{Groups: h.DB.Groups(), Counsellors: h.DB.Accounts(), Sandbox: "playground"})
	})
	if r := h.Say("k1", "student", "绑定 实验小学 三年级2班"); len(r) != 1 || !strings.Contains(r[0], "关联账号") {
		t.Fatalf("a student bound the class group: %q", r)
	}
	if h.Group("k1").Bound() {
		t.Fatal("the group is bound")
	}
	ctx := context.Background()
	teacher, err := h.DB.Members().EnsureMember(ctx, "test", "li", "李老师")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.DB.Accounts().CreateAccount(ctx, &store.Account{Username: "li", PasswordHash: "x", Role: bot.RoleCounsellor, LinkCode: "ABCD2345"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DB.Accounts().LinkAccount(ctx, "ABCD2345", teacher.ID); err != nil {
		t.Fatal(err)
	}
	if r := h.Say("k1", "li", "绑定 实验小学 三年级2班"); len(r) != 1 || !strings.Contains(r[0], "实验小学 三年级2班") {
		t.Fatalf("the linked teacher: %q", r)
	}
	if err := h.DB.Accounts().SetDisabled(ctx, "li", true); err != nil {
		t.Fatal(err)
	}
	if r := h.Say("k2", "li", "绑定 实验小学 三年级3班"); len(r) != 1 || !strings.Contains(r[0], "关联账号") {
		t.Fatalf("a disabled account bound a group: %q", r)
	}
}
