// Command methodbyname executes a text/template: its field lookup calls
// reflect.Value.MethodByName with a name known only at run time.
package main

import (
	"os"
	"text/template"
)

func main() {
	template.Must(template.New("t").Parse("{{.Name}}\n")).Execute(os.Stdout, struct{ Name string }{"x"})
}
