module github.com/gitfleet/gitfleet/examples/go

go 1.24

require github.com/gitfleet/gitfleet/bindings/go v0.0.0

replace github.com/gitfleet/gitfleet/bindings/go => ../../bindings/go
