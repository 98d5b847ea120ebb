# The two commands of the README: `make run` and `make test`. Both install what is missing first.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build run test test-asan test-tsan test-fuzz fuzz-long bench package clean

all: build

deps:
	@scripts/install-deps.sh
	@scripts/install-onnxruntime.sh

build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-default.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# A .deb (CPack, resources/packaging): `apt-get install ./$(BUILD)/adjoint_*.deb` installs adjoint
# and adjoint-cli with a desktop entry and the MIME types of the files they open.
package: build
	cd $(BUILD) && cpack -G DEB

# ASan + UBSan on the engine and CLI tests (no GUI).
test-asan: deps
	@test -f $(BUILD_ASAN)/CMakeCache.txt || cmake -S . -B $(BUILD_ASAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DADJOINT_SANITIZE=ON -DADJOINT_BUILD_GUI=OFF -DADJOINT_BUILD_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS) -L engine

# ThreadSanitizer on the engine tests and the GUI tests of the threaded machinery (label tsan,
# tests/CMakeLists.txt); tests/tsan.supp holds the suppressions, each with its reason.
# die_after_fork=0: QProcess (the tests that start adjoint-cli) forks with vfork semantics, the
# child sharing the parent's memory until exec, which makes TSan take the parent for a child of a
# multi-threaded fork and kill it when it next starts a thread.
test-tsan: deps
	@test -f $(BUILD_TSAN)/CMakeCache.txt || cmake -S . -B $(BUILD_TSAN) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DADJOINT_TSAN=ON -DADJOINT_BUILD_BENCH=OFF
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target tsan-tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 die_after_fork=0 suppressions=$(CURDIR)/tests/tsan.supp" \
	    ctest --test-dir $(BUILD_TSAN) --output-on-failure -j $(JOBS) -L tsan

# libFuzzer (clang, ASan + UBSan) on the loaders, checkpoints, the optimizer's trace and the CLI's
# arguments: the committed corpus in tests/fuzz/corpus, then a bounded number of mutated inputs
# per target (ADJOINT_FUZZ_RUNS). fuzz-long: 10 million inputs per target, outside CI
# (scripts/fuzz-long.sh; docs/RELIABILITY.md).
$(BUILD_FUZZ)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) $(GENERATOR) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DADJOINT_FUZZ=ON \
	    -DADJOINT_BUILD_GUI=OFF -DADJOINT_BUILD_BENCH=OFF

test-fuzz: deps $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	ctest --test-dir $(BUILD_FUZZ) --output-on-failure -j $(JOBS) -L fuzz

fuzz-long: deps $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	scripts/fuzz-long.sh $(BUILD_FUZZ)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_TSAN)
