module github.com/healthcode-sdk/healthcode/benchmarks

go 1.26.0

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.6 // indirect
)

replace github.com/healthcode-sdk/healthcode => ../
