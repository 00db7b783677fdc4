module github.com/gitfleet/gitfleet/bindings/go

go 1.24
