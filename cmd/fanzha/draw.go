package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"fanzha/bot"
)

// runDraw implements `fanzha draw verify ID`: recompute a prize draw from
// what was stored and announced.
func runDraw(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "verify" {
		return bot.Errorf(bot.EINVALID, "用法：fanzha draw verify [-config 文件] 抽奖编号")
	}
	fs := flag.NewFlagSet("draw verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file (optional)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil {
		return bot.Errorf(bot.EINVALID, "请写上抽奖编号，例如：fanzha draw verify 12")
	}
	m, err := adminDB(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := m.DB.Prizes().Draw(ctx, id)
	if err != nil {
		return err
	}
	if err := bot.VerifyDraw(d); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "抽奖 %d（%s）核对无误：原始值 %s 与承诺值 %s 相符；%d 人符合条件，按原始值复算的获奖编号与公布的一致：",
		d.ID, d.Period, d.Secret, d.Commitment, len(d.Entrants))
	for i, w := range d.Winners {
		if i > 0 {
			fmt.Fprint(stdout, "、")
		}
		fmt.Fprint(stdout, w.Tag)
	}
	fmt.Fprintln(stdout, "。")
	return nil
}
