# Shortcuts for the scripts in scripts/; each works on a fresh machine with cargo and python3.
.PHONY: demo test install bench docs

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
