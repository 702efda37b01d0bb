package binding

import (
	"testing"

	"fanzha/bot"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []bot.OrgUnit
		err  bool
	}{
		{in: "幸福社区", want: []bot.OrgUnit{{Kind: bot.OrgCommunity, Name: "幸福社区"}}},
		{in: "东风村", want: []bot.OrgUnit{{Kind: bot.OrgVillage, Name: "东风村"}}},
		{in: "城关镇 东风村", want: []bot.OrgUnit{{Kind: bot.OrgTown, Name: "城关镇"}, {Kind: bot.OrgVillage, Name: "东风村"}}},
		{in: "实验小学 三年级2班", want: []bot.OrgUnit{{Kind: bot.OrgSchool, Name: "实验小学"}, {Kind: bot.OrgClass, Name: "三年级2班"}}},
		{in: "实验小学/三年级2班", want: []bot.OrgUnit{{Kind: bot.OrgSchool, Name: "实验小学"}, {Kind: bot.OrgClass, Name: "三年级2班"}}},
		{in: "", err: true},
		{in: "张三", err: true},         // not a place
		{in: "城关镇", err: true},        // a town is not where a group belongs
		{in: "三年级2班 实验小学", err: true}, // inside out
		{in: "社区", err: true},         // a suffix alone
		{in: "一个名字特别特别长长长长长长长长长长长长长长长长长长长长长长长长长的社区", err: true}, // > 32 characters
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if tt.err {
			if err == nil || bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("%q: err = %v; want an invalid-input error", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q = %+v; want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q = %+v; want %+v", tt.in, got, tt.want)
			}
		}
	}
}
