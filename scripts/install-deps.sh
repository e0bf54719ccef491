#!/usr/bin/env bash
# Install every Debian package that building, testing and the demo need.
# Idempotent (a no-op when everything is present), non-interactive, works as
# root or through sudo. Called by `make test`, `make demo` and `.ci/run`.
set -euo pipefail

packages=(
	# build
	cmake make gcc pkg-config clang libclang-rt-14-dev clang-format
	# libraries
	libcurl4-openssl-dev libssl-dev libjansson-dev libfyaml-dev libmicrohttpd-dev
	libgnutls28-dev libcmocka-dev
	# runtime tools the binary spawns, and the end-to-end peers
	git ansible-core openssh-server openssh-client
	# independent clients for the simulators (tests only)
	python3 python3-proxmoxer python3-hvac python3-yaml ansible
	# watch --listen's peers (tests only): a real scraper and a real browser
	prometheus chromium
	# packaging checks (tests only): the schema, completion, .deb (issue 21)
	python3-jsonschema zsh fish lintian dpkg-dev man-db
	# proxmox-sim --guests qemu (tests only, issue 22): QEMU, qemu-img, the
	# guest agent its client is tested against, the cloud-init ISO's maker
	qemu-system-x86 qemu-utils qemu-guest-agent genisoimage
	# scripts/build-guest-image.sh (tests only, issue 22): the guest image
	mmdebstrap e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$p")
done

# Some machines have a kubectl from another source; install Debian's only
# when there is none on PATH.
if ! command -v kubectl >/dev/null 2>&1; then
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' kubernetes-client 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=(kubernetes-client)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo -n)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
