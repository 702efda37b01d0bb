package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"

	"fanzha/bot"
	"fanzha/store"
	"fanzha/web"
)

// minPassword is the shortest password accepted for an admin account.
const minPassword = 10

// runAdmin implements `fanzha admin create`: the first admin, and every
// account after it. The password is read from stdin, never from flags,
// so it stays out of shell history and process lists.
func runAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: fanzha admin create -username NAME [-role admin|counsellor] [-org UNIT] < password")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "admin", "admin (sees everything under -org) or counsellor (sees the groups they bound)")
	org := fs.String("org", "", "admins: the town, village or school they oversee (default: everything)")
	cfgPath := fs.String("config", "", "YAML configuration file (optional)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return bot.Errorf(bot.EINVALID, "请用 -username 指定登录名。")
	}
	if *role != "admin" && *role != "counsellor" {
		return bot.Errorf(bot.EINVALID, "-role 只能是 admin（管理员）或 counsellor（老师/网格员），不能是 %q。", *role)
	}
	fmt.Fprintln(stderr, "请输入密码（至少 10 位）：")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return bot.Errorf(bot.EINVALID, "没有读到密码：请在提示后输入密码并回车，或用 < 文件 传入（%v）", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len([]rune(pw)) < minPassword {
		return bot.Errorf(bot.EINVALID, "密码至少要 %d 位。", minPassword)
	}
	m := NewMain(io.Discard)
	if err := m.ParseFlags([]string{"-config", *cfgPath}, stderr); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	defer m.Close()
	hash, err := web.HashPassword(pw)
	if err != nil {
		return err
	}
	a := &store.Account{Username: *username, PasswordHash: hash, Role: *role}
	if *org != "" {
		if *role != "admin" {
			return fmt.Errorf("admin create: -org is for admins; counsellors see the groups they bound")
		}
		u, err := m.DB.FindOrgUnitByName(ctx, *org)
		if err != nil {
			return fmt.Errorf("admin create: %w (bind a group to it first, or leave -org out)", err)
		}
		a.OrgUnitID = u.ID
	}
	if *role == "counsellor" {
		a.LinkCode = linkCode()
	}
	if err := m.DB.Accounts().CreateAccount(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建账号 %s（%s）。\n", a.Username, map[string]string{"admin": "管理员", "counsellor": "老师/网格员"}[a.Role])
	if a.LinkCode != "" {
		fmt.Fprintf(stdout, "请本人在自己绑定的群里发送：关联账号 %s\n关联后，登录即可看到其绑定的群。\n", a.LinkCode)
	}
	return nil
}

// linkCode is a one-time code, easy to type on a phone: no 0/O or 1/I.
func linkCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
