package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask warren itself for the words that fit
// (urfave/cli's --generate-bash-completion: subcommands, then a command's
// flags after "-"), so they follow the installed binary; fish gets a static
// script generated from the commands and flags.
const bashCompletion = `# bash completion for warren. Load it with:
#   source <(warren completion bash)
# or install it: warren completion bash > /etc/bash_completion.d/warren
_warren_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:$COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _warren_complete warren
`

const zshCompletion = `#compdef warren
# zsh completion for warren. Load it with:
#   source <(warren completion zsh)
# or install it as _warren in a directory of $fpath.
_warren() {
  local -a opts
  local cur
  cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_warren" ]]; then
  _warren "$@"
else
  compdef _warren warren
fi
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "Prints a completion script for the shell named. Load it for this shell, or install it:\n\n" +
			"  source <(warren completion bash)          # bash; or > /etc/bash_completion.d/warren\n" +
			"  source <(warren completion zsh)           # zsh; or > \"${fpath[1]}/_warren\"\n" +
			"  warren completion fish | source           # fish; or > ~/.config/fish/completions/warren.fish\n\n" +
			"Exit codes: 0 success, 1 error.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("name one shell: bash, zsh or fish")
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(c.App.Writer, s)
			default:
				return fmt.Errorf("unknown shell %q: use bash, zsh or fish", shell)
			}
			return nil
		},
	}
}
