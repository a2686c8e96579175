# `make` builds the one Rust staticlib and leaves it as libserver.a and
# libclient.a (the same library under the course's two names) in the
# repository root, with the generated headers in include/.
CARGO ?= cargo
PROFILE_DIR := target/release
LIB := $(PROFILE_DIR)/libisoprobe.a

.PHONY: all lib headers check-headers test clean

all: libserver.a libclient.a

# cargo decides what is stale; build.rs refreshes include/*.h.
lib:
	$(CARGO) build --release --locked

$(LIB): lib

libserver.a libclient.a: lib
	cp $(LIB) $@

headers: lib

# Fails when include/*.h differ from what build.rs generates.
check-headers:
	ISOPROBE_HEADERS=check $(CARGO) build --release --locked

test:
	./scripts/test.sh

clean:
	$(CARGO) clean
	rm -f libserver.a libclient.a
