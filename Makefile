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

# Debug info of Rust's std is most of the archive; linkers do not need it.
libserver.a libclient.a: lib
	objcopy --strip-debug $(LIB) $@ 2>/dev/null || cp $(LIB) $@

headers: lib

# Fails when include/*.h differ from what build.rs generates.
check-headers:
	ISOPROBE_HEADERS=check $(CARGO) build --release --locked

test:
	./scripts/test.sh

clean:
	$(CARGO) clean
	rm -f libserver.a libclient.a
