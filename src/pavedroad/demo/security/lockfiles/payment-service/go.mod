module github.example.com/fernhollow/payment-service

go 1.21

require (
	github.com/jackc/pgx/v5 v5.4.3
	golang.org/x/net v0.17.0
	google.golang.org/grpc v1.58.3
)
