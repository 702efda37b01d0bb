module fanzha

go 1.26.0

require (
	github.com/mattn/go-sqlite3 v1.14.53
	golang.org/x/time v0.16.0
	gopkg.in/yaml.v3 v3.0.1
)
