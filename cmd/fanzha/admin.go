package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	if len(args) == 0 {
		return bot.Errorf(bot.EINVALID, "%s", adminUsage)
	}
	switch args[0] {
	case "create":
	case "list":
		return adminList(ctx, args[1:], stdout, stderr)
	case "passwd", "disable", "enable", "token", "revoke":
		return adminChange(ctx, args[0], args[1:], stdin, stdout, stderr)
	default:
		return bot.Errorf(bot.EINVALID, "%s", adminUsage)
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
	if r := bot.Role(*role); r != bot.RoleAdmin && r != bot.RoleCounsellor {
		return bot.Errorf(bot.EINVALID, "-role 只能是 admin（管理员）或 counsellor（老师/网格员），不能是 %q。", *role)
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	m, err := adminDB(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	hash, err := web.HashPassword(pw)
	if err != nil {
		return err
	}
	a := &store.Account{Username: *username, PasswordHash: hash, Role: bot.Role(*role)}
	if *org != "" {
		if bot.Role(*role) != bot.RoleAdmin {
			return fmt.Errorf("admin create: -org is for admins; counsellors see the groups they bound")
		}
		u, err := m.DB.FindOrgUnitByName(ctx, *org)
		if err != nil {
			return fmt.Errorf("admin create: %w (bind a group to it first, or leave -org out)", err)
		}
		a.OrgUnitID = u.ID
	}
	if bot.Role(*role) == bot.RoleCounsellor {
		a.LinkCode = linkCode()
	}
	if err := m.DB.Accounts().CreateAccount(ctx, a); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建账号 %s（%s）。\n", a.Username, roleNames[a.Role])
	if a.LinkCode != "" {
		fmt.Fprintf(stdout, "请本人在自己绑定的群里发送：关联账号 %s\n关联后，登录即可看到其绑定的群。\n", a.LinkCode)
	}
	return nil
}

const adminUsage = `用法：
  fanzha admin create -username 登录名 [-role admin|counsellor] [-org 单位] < 密码
  fanzha admin list                       列出所有账号
  fanzha admin passwd -username 登录名 < 新密码   重设密码（该账号已登录的浏览器会退出）
  fanzha admin disable -username 登录名     停用账号（不能再登录）
  fanzha admin enable -username 登录名      重新启用
  fanzha admin token -username 登录名       为脚本生成 API 令牌（只显示一次）
  fanzha admin revoke -username 登录名      撤销该账号的全部 API 令牌`

// readPassword reads one line from stdin: never a flag, so passwords stay
// out of shell history and process lists.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	fmt.Fprintf(stderr, "请输入密码（至少 %d 位）：\n", minPassword)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", bot.Errorf(bot.EINVALID, "没有读到密码：请在提示后输入密码并回车，或用 < 文件 传入（%v）", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len([]rune(pw)) < minPassword {
		return "", bot.Errorf(bot.EINVALID, "密码至少要 %d 位。", minPassword)
	}
	return pw, nil
}

// adminDB opens the database named by -config for an admin command.
func adminDB(ctx context.Context, cfgPath string, stderr io.Writer) (*Main, error) {
	m := NewMain(io.Discard)
	if err := m.ParseFlags([]string{"-config", cfgPath}, stderr); err != nil {
		return nil, err
	}
	if err := m.openDB(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// adminList prints every account: who, role, what it oversees, whether
// it is linked or disabled.
func adminList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := adminDB(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	accounts, err := m.DB.Accounts().ListAccounts(ctx)
	if err != nil {
		return err
	}
	if len(accounts) == 0 {
		fmt.Fprintln(stdout, "还没有账号。用 fanzha admin create 创建第一个管理员。")
		return nil
	}
	for _, a := range accounts {
		line := a.Username + "\t" + roleNames[a.Role]
		switch {
		case a.Role == bot.RoleCounsellor && a.MemberID == 0:
			line += "\t未关联群身份"
		case a.Role == bot.RoleCounsellor:
			line += "\t已关联"
		case a.OrgUnitID == 0:
			line += "\t全部范围"
		default:
			line += "\t限定单位"
		}
		if a.Disabled {
			line += "\t已停用"
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// adminChange resets a password, or disables or enables an account.
func adminChange(ctx context.Context, what string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name")
	cfgPath := fs.String("config", "", "YAML configuration file (optional)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return bot.Errorf(bot.EINVALID, "请用 -username 指定登录名。")
	}
	var pw string
	if what == "passwd" {
		var err error
		if pw, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}
	m, err := adminDB(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	accounts := m.DB.Accounts()
	switch what {
	case "passwd":
		hash, err := web.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := accounts.SetPassword(ctx, *username, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已重设 %s 的密码，已登录的浏览器需要重新登录。\n", *username)
	case "disable":
		if err := accounts.SetDisabled(ctx, *username, true); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已停用账号 %s。\n", *username)
	case "enable":
		if err := accounts.SetDisabled(ctx, *username, false); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已重新启用账号 %s。\n", *username)
	case "token":
		token := apiToken()
		if err := accounts.CreateToken(ctx, *username, "cli", token); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s 的 API 令牌（只显示这一次，请妥善保存）：\n%s\n", *username, token)
	case "revoke":
		n, err := accounts.RevokeTokens(ctx, *username)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已撤销 %s 的 %d 个 API 令牌。\n", *username, n)
	}
	return nil
}

var roleNames = map[bot.Role]string{bot.RoleAdmin: "管理员", bot.RoleCounsellor: "老师/网格员"}

// apiToken is a new random API token: 32 bytes, hex.
func apiToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "fz_" + hex.EncodeToString(b)
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
