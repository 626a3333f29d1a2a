# Shortcuts for the scripts in scripts/; each works on a fresh machine with cargo and python3.
.PHONY: demo test install bench docs release

demo:
	scripts/demo.sh

test:
	scripts/test.sh

install:
	scripts/install.sh

bench:
	scripts/bench.sh

docs:
	UPDATE_DOCS=1 cargo test --features internals --test docs

# make release VERSION=1.2.3 [NAMESPACE=acme] [HOST=registry.opentofu.org]: docs/release.md.
release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=1.2.3 [NAMESPACE=ns] [HOST=host]" >&2; exit 2; }
	scripts/release.sh "$(VERSION)" $(if $(NAMESPACE),--namespace "$(NAMESPACE)") $(if $(HOST),--host "$(HOST)")
