// Command gendefs writes a generated definitions document of about -n
// objects to standard output, for benchmarks (make bench).
package main

import (
	"flag"
	"os"

	"github.com/warren-tool/warren/internal/defgen"
)

func main() {
	n := flag.Int("n", 1000, "number of objects")
	flag.Parse()
	os.Stdout.Write(defgen.Generate(*n))
}
