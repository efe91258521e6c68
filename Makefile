# Build recipe for `sam build` (template.yaml: Metadata BuildMethod: makefile).
#
# SAM runs `make build-<LogicalId>` with ARTIFACTS_DIR set; every function shares one recipe and
# one package: the functions/ package and the Jinja templates/, plus the runtime dependencies
# from pyproject.toml's [project].dependencies (the one source of truth), built for the Lambda
# platform (CPython 3.13 on arm64). boto3/botocore/s3transfer come with the Lambda runtime and are
# left out to keep the package small (also when another package pulls them in); pass
# RUNTIME_PROVIDED= to bundle them.
#
# Some pure-Python dependencies publish only an sdist (feedgen), and `pip install --platform`
# accepts wheels only: the direct dependencies are first turned into wheels on this machine
# (pure ones come out as py3-none-any and are used; for compiled ones the index's wheels for the
# Lambda platform win). A transitive sdist-only dependency would fail the install by name.
#
# Prefer `sam build --build-in-source`: without it SAM first copies the whole CodeUri (the repo,
# virtualenvs included) to a scratch directory.

PYTHON ?= python3
LAMBDA_PYTHON_VERSION ?= 3.13
LAMBDA_PLATFORM ?= manylinux2014_aarch64
RUNTIME_PROVIDED ?= boto3 botocore s3transfer
PIP = $(PYTHON) -m pip --disable-pip-version-check --quiet

# Prints the requirement lines of [project].dependencies, less the names given as arguments.
define READ_DEPENDENCIES
import re, sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
name = lambda req: re.split(r"[^A-Za-z0-9._-]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")
print("\n".join(d for d in deps if name(d) not in sys.argv[1:]))
endef
export READ_DEPENDENCIES

# One target per function of template.yaml.
FUNCTION_TARGETS = build-ApiFunction build-PublisherFunction build-SchedulerFunction \
	build-NotifierFunction build-ReconcilerFunction build-RebuildWorkerFunction

# `make build-ApiFunction` by hand, outside SAM.
ifndef ARTIFACTS_DIR
$(FUNCTION_TARGETS): ARTIFACTS_DIR = .aws-sam/make/$@
endif

.PHONY: $(FUNCTION_TARGETS)

$(FUNCTION_TARGETS):
	@echo "$@: functions/ and templates/ -> $(ARTIFACTS_DIR)"
	@mkdir -p "$(ARTIFACTS_DIR)"
	@tar -cf - --exclude=__pycache__ --exclude='*.pyc' functions templates | tar -xf - -C "$(ARTIFACTS_DIR)"
	@echo "$@: dependencies from pyproject.toml for $(LAMBDA_PLATFORM), CPython $(LAMBDA_PYTHON_VERSION)"
	@set -eu; \
	work="$$(mktemp -d)"; \
	trap 'rm -rf "$$work"' EXIT; \
	$(PYTHON) -c "$$READ_DEPENDENCIES" $(RUNTIME_PROVIDED) > "$$work/requirements.txt"; \
	$(PIP) wheel --no-deps --wheel-dir "$$work/wheels" -r "$$work/requirements.txt"; \
	$(PIP) install --root-user-action=ignore --no-compile --no-warn-conflicts --find-links "$$work/wheels" \
		--platform $(LAMBDA_PLATFORM) --implementation cp --python-version $(LAMBDA_PYTHON_VERSION) \
		--only-binary=:all: --target "$(ARTIFACTS_DIR)" -r "$$work/requirements.txt"
	@# Transitive copies of what the runtime provides, and console scripts nobody runs on Lambda.
	@cd "$(ARTIFACTS_DIR)" && for pkg in $(subst -,_,$(RUNTIME_PROVIDED)); do \
		rm -rf "$$pkg" "$$pkg"-*.dist-info; \
	done; rm -rf bin

# -- The two commands of README.md: each installs what it needs on a fresh machine. ----------------

VENV ?= .venv
SERVE_ARGS ?= --site examples/seed/seed-site.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

.PHONY: install serve test
install: $(VENV)/.installed

# The local stack: moto in-process, API and site on http://127.0.0.1:8080
serve: $(VENV)/.installed
	$(VENV)/bin/presswire serve $(SERVE_ARGS)

# The whole test suite: unit, integration (moto) and e2e (the real local stack over HTTP, and in
# Chromium). Two pytest-xdist workers: CI has 2 CPUs, and the e2e tests mostly wait on their
# stacks. TEST_WORKERS=0 runs it in one process (pdb, or a machine busy with other work).
TEST_WORKERS ?= 2
test: $(VENV)/.installed
	$(VENV)/bin/pytest -n $(TEST_WORKERS)
