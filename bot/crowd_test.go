package bot

import "testing"

// TestNormalizeItem: one number, link or card however people write it.
func TestNormalizeItem(t *testing.T) {
	for _, tt := range []struct {
		entity, raw string
		want        Item
		ok          bool
	}{
		{"hotline", "400-123-4567", Item{ItemPhone, "4001234567"}, true},
		{"", "400 123 4567", Item{ItemPhone, "4001234567"}, true},
		{"phone", "+86 138 0013 8000", Item{ItemPhone, "13800138000"}, true},
		{"", "0086-13800138000", Item{ItemPhone, "13800138000"}, true},
		{"", "8613800138000", Item{ItemPhone, "13800138000"}, true},
		{"", "(0755) 6612-0987", Item{ItemPhone, "075566120987"}, true},
		{"", "1234", Item{}, false},
		{"url", "HTTPS://WWW.Jd-Refund.TOP/pay/", Item{ItemLink, "jd-refund.top/pay"}, true},
		{"", "jd-refund.top/pay?id=7#x", Item{ItemLink, "jd-refund.top/pay"}, true},
		{"url", "http://例子.中国/领奖", Item{ItemLink, "xn--fsqu00a.xn--fiqs8s/%E9%A2%86%E5%A5%96"}, true},
		{"bank_card", "6222 0212 3456 7890 128", Item{ItemCard, "6222021234567890128"}, true},
		{"bank_card", "6222021234567890123", Item{}, false}, // fails Luhn
		{"qq", "12345678", Item{ItemQQ, "12345678"}, true},
		{"wechat", "Kefu_JD88", Item{ItemWeChat, "kefu_jd88"}, true},
		{"", "你好", Item{}, false},
	} {
		got, ok := NormalizeItem(tt.entity, tt.raw)
		if ok != tt.ok || got != tt.want {
			t.Errorf("NormalizeItem(%q, %q) = %v, %v; want %v, %v", tt.entity, tt.raw, got, ok, tt.want, tt.ok)
		}
	}
	if TextItem("加我 微信，领三倍赔偿！") != TextItem("加我微信领三倍赔偿") {
		t.Error("the same text with other spacing is another item")
	}
}
