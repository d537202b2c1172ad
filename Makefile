# synq — two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build, run the default lab scenario
#   make test   install what is missing, build, run every test (also under ASan+UBSan)
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps build build-asan report-assets run test unit-asan bench format clean

all: build

deps:
	@./tools/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/build.ninja report-assets
	@cmake --build $(BUILD) -j $(JOBS)

# The lab report's Vega-Lite bundles (npm, pinned by src/lab/report/package-lock.json),
# installed beside the synq binary: `synq lab --report` inlines them into the page.
REPORT_LOCK := src/lab/report/package-lock.json
$(BUILD)/report-assets/.installed: $(REPORT_LOCK) src/lab/report/package.json | deps
	@mkdir -p $(BUILD)/report-assets
	@cp src/lab/report/package.json $(REPORT_LOCK) $(BUILD)/report-assets/
	@cd $(BUILD)/report-assets && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

report-assets: $(BUILD)/report-assets/.installed

$(ASAN_BUILD)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSYNQ_SANITIZE=ON >/dev/null

build-asan: deps $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests synq

run: build
	@./$(BUILD)/synq lab seeds --out-dir $(BUILD)/lab

test: build build-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	@./$(BUILD)/synq_bench --benchmark_counters_tabular=true
	@bench/lab_scale.sh ./$(BUILD)/synq

format:
	@find include src apps tests bench fuzz -name '*.[ch]pp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD)
