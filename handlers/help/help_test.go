package help

import (
	"strings"
	"testing"

	"fanzha/bot"
)

func TestTextShowsStaffCommandsOnlyToStaff(t *testing.T) {
	us := []bot.Usage{{Say: "这是诈骗吗 + 内容", Does: "查诈骗"}, {Say: "开始答题", Does: "开一轮答题", Counsellor: true}}
	resident := Text(us, false)
	if !strings.Contains(resident, "这是诈骗吗") || strings.Contains(resident, "开始答题") || !strings.Contains(resident, "帮助 管理") {
		t.Errorf("resident help:\n%s", resident)
	}
	staff := Text(us, true)
	if !strings.Contains(staff, "开始答题") || !strings.Contains(staff, "96110") {
		t.Errorf("staff help:\n%s", staff)
	}
	if n := len(strings.Split(resident, "\n")); n > 10 {
		t.Errorf("resident help has %d lines; a phone shows about 10", n)
	}
}
