module github.com/example/inventory

go 1.21

toolchain go1.21.5

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/text v0.3.7 // indirect
)

require github.com/pkg/errors v0.9.1

require (
	github.com/example/shared v0.0.0-00010101000000-000000000000
)

replace github.com/pkg/errors => github.com/pkg/errors v0.8.1

replace github.com/example/shared => ../shared

exclude golang.org/x/net v0.0.1
