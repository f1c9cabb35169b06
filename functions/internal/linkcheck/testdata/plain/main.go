// Command plain calls no method chosen at run time.
package main

import (
	"encoding/json"
	"os"
)

func main() {
	json.NewEncoder(os.Stdout).Encode(struct{ Name string }{"x"})
}
