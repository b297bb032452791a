# PGXS build of the extension: abdm_hip.so (core + PostgreSQL glue) and the SQL scripts.
#   make && make install        build and install into the pg_config found on PATH
#   make installcheck           pg_regress against a running server (PGHOST/PGPORT/PGUSER)
# The full test suite, with a private cluster and the simulator, is test/run-all (see README).

EXT_NAME   = abdm_hip
EXTVERSION = 0.2.0
MODULE_big = abdm_hip
MODULEDIR  = extension
PG_CONFIG ?= pg_config

# The PostgreSQL-free core is built once, by CMake (the same build the unit tests use), as static
# libraries that are linked into abdm_hip.so; PGXS compiles only the glue in src/pg.
CORE_BUILD ?= build
CORE_LIBS   = $(foreach m,bridge auth abdm fhir crypto net util,$(CORE_BUILD)/libabdm_$(m).a)
PG_SRCS    := $(sort $(wildcard src/pg/*.cpp))
OBJS        = $(PG_SRCS:.cpp=.o)

# The extension script is assembled from small parts, one job each, in name order. Parts named
# NN_*.once.sql are one-time DDL (schema, domains, tables); every other part is replayable code
# (CREATE OR REPLACE functions, views, triggers, grants next to each object), which every upgrade
# script into this version replays after its own DDL delta. Upgrade scripts live in sql/upgrade/,
# out of the pg_regress wildcard: sql/upgrade/abdm_hip--A--$(EXTVERSION).sql is the delta of the
# version in development, completed here; older ones are frozen whole (docs/design-notes.md,
# "Versioned SQL").
SCHEMA_PARTS := $(sort $(wildcard sql/schema/*.sql))
CODE_PARTS   := $(filter-out %.once.sql,$(SCHEMA_PARTS))
UPGRADE_SRCS := $(wildcard sql/upgrade/$(EXT_NAME)--*--*.sql)
UPGRADE_INTO := $(filter %--$(EXTVERSION).sql,$(UPGRADE_SRCS))
DATA_built    = $(EXT_NAME)--$(EXTVERSION).sql $(notdir $(UPGRADE_INTO))
DATA          = control/$(EXT_NAME).control $(filter-out $(UPGRADE_INTO),$(UPGRADE_SRCS))

PG_CPPFLAGS = -Isrc $(shell pkg-config --cflags libcurl 2>/dev/null)
PG_CXXFLAGS = -std=c++20 -fPIC -O2 -Wall -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -fno-omit-frame-pointer -MMD -MP
SHLIB_LINK  = -Wl,--start-group $(CORE_LIBS) -Wl,--end-group -lssl -lcrypto -lcurl -lmicrohttpd -lcjose -lstdc++

# pg_regress: every sql/*.sql is a test; `setup` (CREATE EXTENSION, fixtures) runs first, `teardown` (DROP EXTENSION) last.
REGRESS_ALL  := $(basename $(notdir $(wildcard sql/*.sql)))
REGRESS       = setup $(sort $(filter-out setup teardown,$(REGRESS_ALL))) teardown
REGRESS_OPTS  = --inputdir=. --outputdir=build-regress

EXTRA_CLEAN = $(DATA_built) build-regress build-isolation $(OBJS:.o=.d)

# Debian's server is built with LLVM JIT; bitcode for C++ sources would need clang. Not used.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# cmake decides what is stale in the core; asking it every time is cheap.
$(CORE_LIBS): core
.PHONY: core
core:
	cmake -S . -B $(CORE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(CORE_BUILD) -j$$(nproc) --target $(foreach m,bridge auth abdm fhir crypto net util,abdm_$(m))
$(shlib): $(CORE_LIBS)

$(EXT_NAME)--$(EXTVERSION).sql: $(SCHEMA_PARTS)
	{ printf '%s\n' '-- $(EXT_NAME) $(EXTVERSION), built from sql/schema/*.sql in name order.' \
	    '\echo Use "CREATE EXTENSION $(EXT_NAME)" to load this file. \quit'; cat $^; } > $@

# The upgrade into this version: its delta, then every replayable part.
$(notdir $(UPGRADE_INTO)): %.sql: sql/upgrade/%.sql $(CODE_PARTS)
	{ printf '%s\n' '-- $*: the DDL delta of sql/upgrade/$*.sql, then the replayable parts of sql/schema.' \
	    '\echo Use "ALTER EXTENSION $(EXT_NAME) UPDATE TO '"'"'$(EXTVERSION)'"'"'" to load this file. \quit'; \
	  cat $^; } > $@

installcheck: | build-regress

# The schedule, for the test command's count (a test with no result line did not run).
.PHONY: print-regress
print-regress:
	@echo $(REGRESS)

# pg_isolation_regress: every test/isolation/specs/*.spec against the running server, as
# installcheck runs pg_regress (test/isolation/run does the work; README there).
ABDM_ISOLATION = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
.PHONY: isolationcheck print-isolation
isolationcheck:
	test/isolation/run $(ABDM_ISOLATION)
print-isolation:
	@echo $(ABDM_ISOLATION)
build-regress:
	mkdir -p $@

# The glue may include core headers after postgres.h; core files compiled on their own may not.
override CPPFLAGS += -DABDM_PG_GLUE=1

# Rebuild an object when a header it includes changes (-MMD writes foo.d beside foo.o): a stale
# object compiled against an older struct layout would crash at run time.
-include $(OBJS:.o=.d)
