#!/usr/bin/env bash
# Shell completion generated from the command tables (issue 21):
# bash completes commands, subcommands, options, VM names (--target,
# doctor), playbooks (--playbook) and workspaces (workloads) through the
# hidden `__complete`; zsh's script parses and registers itself with
# compinit; fish's parses and completes. zsh and fish are test dependencies
# (scripts/install-deps.sh): a missing one fails, it is not skipped.
#
# Usage: completion.sh PVE_GITOPS SOURCE_DIR
. "$(dirname "$0")/lib.sh"
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/examples/infra" "$work/repo"
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/pve-gitops"
export PATH="$work/bin:$PATH"
cd "$work/repo" || exit 1

# comp WORDS...: COMPREPLY of bash's completion function for these words
comp() {
	bash -c 'source <(pve-gitops completion bash) || exit 3
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=(); _pve_gitops; echo "${COMPREPLY[*]}"' comp "$@"
}

expect_eq "bash: pl -> plan" "$(comp pve-gitops pl)" "plan"
expect_eq "bash: apply --ta -> --target" "$(comp pve-gitops apply --ta)" "--target"
expect_eq "bash: a subcommand" "$(comp pve-gitops kubeconfig me)" "merge"
expect_eq "bash: a subcommand's option" "$(comp pve-gitops kubeconfig merge --cont)" "--context"
expect_eq "bash: a global option" "$(comp pve-gitops --no-)" "--no-color"
expect_eq "bash: --target takes VM names" "$(comp pve-gitops apply --target k8s)" \
	"k8s-home k8s-observability"
expect_eq "bash: doctor takes VM names" "$(comp pve-gitops doctor talos-prod-c)" "talos-prod-cp01"
expect_eq "bash: --playbook takes playbook names" "$(comp pve-gitops provision --playbook k8)" \
	"k8s k8s-ha"
expect_eq "bash: workloads check takes workspaces" "$(comp pve-gitops workloads check ob)" \
	"observability"
expect_eq "bash: -C DIR is where names come from" \
	"$(cd / && comp pve-gitops -C "$work/repo" doctor hap)" "haproxy-prod"
expect_eq "bash: the hidden helper is not offered" "$(comp pve-gitops __)" ""
expect_eq "bash: a value-taking option's value is no command" \
	"$(comp pve-gitops --config pve-gitops.yaml pl)" "plan"

# every command and every option of the tables is offered
for c in $(pve-gitops --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
	got=$(comp pve-gitops "$c")
	case " $got " in *" $c "*) ;; *) not_ok "bash: command $c offered"; continue ;; esac
	for o in $(pve-gitops "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		[ "$o" = "--help" ] && continue
		case " $(comp pve-gitops "$c" --) " in
		*" $o "*) ;;
		*) not_ok "bash: $c $o offered" ;;
		esac
	done
done
ok "bash: every command of --help and its options are offered"

run pve-gitops __complete vms
expect_eq "__complete vms lists the definitions" "$out" \
	"$(cd proxmox/vms && ls *.yaml | sed 's/\.yaml$//' | sort)"
run pve-gitops -C /nonexistent __complete vms
expect_eq "__complete is silent on error (status)" "$rc" 2
expect_eq "__complete is silent on error (output)" "$out" ""
run pve-gitops -C "$work" __complete vms
expect_eq "__complete without definitions: nothing, status 0" "$rc/$out/$err" "0//"
run pve-gitops completion ksh
expect_eq "an unknown shell is a usage error" "$rc" 2

if command -v zsh >/dev/null 2>&1; then
	pve-gitops completion zsh > "$work/_pve-gitops"
	run zsh -n "$work/_pve-gitops"
	expect_eq "zsh: the script parses" "$rc/$err" "0/"
	run zsh -fc 'autoload -U compinit && compinit -u -D && source "$1" &&
		print -r -- "$_comps[pve-gitops]"' zsh "$work/_pve-gitops"
	expect_contains "zsh: registered with compinit" "$out" "_pve_gitops"
	# bashcompinit's compgen leaves the matching to zsh: the candidates
	zcomp() {
		zsh -fc 'autoload -U compinit && compinit -u -D && source "$1" &&
			shift && setopt ksharrays && COMP_WORDS=("$@") &&
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _pve_gitops &&
			print -r -- " ${COMPREPLY[*]} "' zsh "$work/_pve-gitops" "$@"
	}
	expect_contains "zsh: pl offers plan" "$(zcomp pve-gitops pl)" " plan "
	expect_contains "zsh: apply offers --target" "$(zcomp pve-gitops apply --ta)" " --target "
	expect_contains "zsh: --target offers VM names" \
		"$(zcomp pve-gitops apply --target k8s)" " k8s-observability "
else
	not_ok "zsh: not installed (scripts/install-deps.sh installs it)"
fi

if command -v fish >/dev/null 2>&1; then
	pve-gitops completion fish > "$work/pve-gitops.fish"
	run fish -n "$work/pve-gitops.fish"
	expect_eq "fish: the script parses" "$rc/$err" "0/"
	run fish -c "source $work/pve-gitops.fish; complete -C 'pve-gitops pl'"
	expect_contains "fish: pl -> plan" "$out" "plan"
	run fish -c "source $work/pve-gitops.fish; complete -C 'pve-gitops apply --target k8s-o'"
	expect_contains "fish: --target takes VM names" "$out" "k8s-observability"
else
	not_ok "fish: not installed (scripts/install-deps.sh installs it)"
fi

finish
