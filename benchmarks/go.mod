module github.com/healthcode-sdk/healthcode/benchmarks

go 1.26.0

require github.com/healthcode-sdk/healthcode v0.0.0

require github.com/stretchr/testify v1.12.1 // indirect

replace github.com/healthcode-sdk/healthcode => ../
