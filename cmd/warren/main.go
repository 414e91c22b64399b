// Command warren keeps message brokers' users, vhosts, permissions and the
// rest of their definitions in files, and makes live brokers match them.
package main

import "os"

func main() {
	stop := startProfiles()
	code := run(os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
