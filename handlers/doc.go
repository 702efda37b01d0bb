// Package handlers holds fanzha's features, one package each (help,
// binding, scam check, ...). Every feature has a Register function that adds
// its commands to a bot.Router; handlers see only bot.Context and the service
// interfaces of package bot, never SQL or HTTP.
package handlers
