#!/usr/bin/env bash
# The Debian packages (issue 21): cpack -G DEB from this build directory
# (what `make deb` runs) into a scratch directory, then lintian (no error),
# the control fields (Depends from dpkg-shlibdeps, git, Recommends), and
# the files `dpkg-deb -x` puts where Debian expects them. lintian and
# dpkg-deb are test dependencies (scripts/install-deps.sh): missing, the
# test fails.
#
# Usage: deb.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MANWIDTH=80 LC_ALL=C.UTF-8

for tool in cpack lintian dpkg-deb dpkg-shlibdeps man; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed"; finish; exit 1; }
done
run cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out"
expect_eq "cpack builds the packages" "$rc" 0
[ "$rc" -eq 0 ] || printf '%s\n%s\n' "$out" "$err" | tail -20
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")/\1/p' "$build/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
main=$work/out/pve-gitops_${version}-1_${arch}.deb
sim=$work/out/pve-gitops-sim_${version}-1_${arch}.deb
for deb in "$main" "$sim"; do
	[ -f "$deb" ] && ok "$(basename "$deb") built" || not_ok "$(basename "$deb") built"
done

run lintian --tag-display-limit 0 "$main" "$sim"
expect_not_contains "lintian reports no error" "$out" "E: "
expect_eq "lintian ran (exit 0: no error)" "$rc" 0
printf '%s\n' "$out" | sed 's/^/# /'

field() { dpkg-deb -f "$1" "$2"; }
deps=$(field "$main" Depends)
for d in libcurl4 libjansson4 libfyaml0 git; do
	expect_contains "pve-gitops depends on $d" ", $deps," ", $d"
done
expect_eq "pve-gitops recommends" "$(field "$main" Recommends)" "ansible-core, openssh-client"
# watch --listen serves its status page with libmicrohttpd, as the simulators do
expect_contains "pve-gitops depends on libmicrohttpd" "$deps" "libmicrohttpd"
expect_contains "pve-gitops-sim depends on libmicrohttpd" "$(field "$sim" Depends)" "libmicrohttpd"

dpkg-deb -x "$main" "$work/root"
dpkg-deb -x "$sim" "$work/simroot"
r=$work/root/usr
for f in bin/pve-gitops share/man/man1/pve-gitops.1.gz share/man/man1/pve-gitops-plan.1.gz \
	share/man/man5/pve-gitops.yaml.5.gz share/man/man5/pve-gitops-vm.5.gz \
	share/bash-completion/completions/pve-gitops share/zsh/vendor-completions/_pve-gitops \
	share/fish/vendor_completions.d/pve-gitops.fish share/doc/pve-gitops/copyright \
	share/doc/pve-gitops/changelog.Debian.gz share/pve-gitops/schema/vmdef.schema.json \
	share/doc/pve-gitops/examples/infra/pve-gitops.yaml; do
	[ -f "$r/$f" ] && ok "/usr/$f" || not_ok "/usr/$f"
done
for f in bin/proxmox-sim bin/vault-sim; do
	[ -x "$work/simroot/usr/$f" ] && ok "pve-gitops-sim: /usr/$f" || not_ok "pve-gitops-sim: /usr/$f"
	[ -e "$r/$f" ] && not_ok "pve-gitops has no /usr/$f" || ok "pve-gitops has no /usr/$f"
done
run "$r/bin/pve-gitops" --version
expect_eq "the packaged binary runs" "$rc" 0
# one page of each package checked: every command's page is
for p in "$r"/share/man/man1/*.gz "$r"/share/man/man5/*.gz; do
	expect_eq "$(basename "$p") renders" "$(man --warnings -l "$p" 2>&1 >/dev/null)" ""
done
expect_eq "a page per command" "$(ls "$r/share/man/man1" | wc -l)" \
	"$(( $("$r/bin/pve-gitops" __man | grep -c '\.1$') + 1 ))"
run bash -c "source '$r/share/bash-completion/completions/pve-gitops' &&
	COMP_WORDS=(pve-gitops pl) COMP_CWORD=1 && _pve_gitops && echo \${COMPREPLY[*]}"
expect_eq "the packaged bash completion completes" "$out" "plan"

finish
