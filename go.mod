module github.com/kstates/kstates

go 1.26

require (
	github.com/ohler55/ojg v1.28.5 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)
