# PGXS build of the extension: abdm_hip.so (core + PostgreSQL glue) and the SQL scripts.
#   make && make install        build and install into the pg_config found on PATH
#   make installcheck           pg_regress against a running server (PGHOST/PGPORT/PGUSER)
# The full test suite, with a private cluster and the simulator, is test/run-all (see README).

EXT_NAME   = abdm_hip
EXTVERSION = 0.1.0
MODULE_big = abdm_hip
MODULEDIR  = extension
PG_CONFIG ?= pg_config

CORE_MODULES ?= util crypto fhir abdm net
CORE_SRCS := $(sort $(shell find $(addprefix src/core/,$(CORE_MODULES)) -name '*.cpp' 2>/dev/null))
PG_SRCS   := $(sort $(wildcard src/pg/*.cpp))
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The extension script is assembled from small parts, one job each, in name order.
SCHEMA_PARTS := $(sort $(wildcard sql/schema/*.sql))
DATA_built    = $(EXT_NAME)--$(EXTVERSION).sql
DATA          = control/$(EXT_NAME).control $(wildcard sql/$(EXT_NAME)--*--*.sql)

PG_CPPFLAGS = -Isrc $(shell pkg-config --cflags libcurl 2>/dev/null)
PG_CXXFLAGS = -std=c++20 -fPIC -O2 -Wall -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -fno-omit-frame-pointer -MMD -MP
SHLIB_LINK  = -lssl -lcrypto -lcurl -lmicrohttpd -lstdc++

# pg_regress: every sql/*.sql is a test; `setup` (CREATE EXTENSION, fixtures) runs first, `teardown` (DROP EXTENSION) last.
REGRESS_ALL  := $(basename $(notdir $(wildcard sql/*.sql)))
REGRESS       = setup $(sort $(filter-out setup teardown,$(REGRESS_ALL))) teardown
REGRESS_OPTS  = --inputdir=. --outputdir=build-regress

EXTRA_CLEAN = $(DATA_built) build-regress $(OBJS:.o=.d)

# Debian's server is built with LLVM JIT; bitcode for C++ sources would need clang. Not used.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXT_NAME)--$(EXTVERSION).sql: $(SCHEMA_PARTS)
	cat $^ > $@

installcheck: | build-regress
build-regress:
	mkdir -p $@

# The glue may include core headers after postgres.h; core files compiled on their own may not.
src/pg/%.o: override CPPFLAGS += -DABDM_PG_GLUE=1

# Rebuild an object when a header it includes changes (-MMD writes foo.d beside foo.o): a stale
# object compiled against an older struct layout would crash at run time.
-include $(OBJS:.o=.d)
