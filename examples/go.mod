module github.com/healthcode-sdk/healthcode/examples

go 1.26.0

require github.com/healthcode-sdk/healthcode v0.0.0

replace github.com/healthcode-sdk/healthcode => ../
