# shellcheck shell=bash
# envd stdlib: `layout <name>` project layouts (go lives in 40-go.sh).
#
# Layouts that keep files under the layout directory (`direnv_layout_dir`, default
# `$PWD/.direnv`) create it on demand with a CACHEDIR.TAG, so backup tools skip it.

# REPLY = the layout directory, created if missing and tagged as a cache.
# direnv_layout_dir is called (not read from the variable) because users override the
# function in their direnvrc to move layouts elsewhere.
__envd_x_layout_dir() {
  REPLY=$(direnv_layout_dir) || return 1
  if [[ -z $REPLY ]]; then
    log_error "direnv_layout_dir printed nothing"
    return 1
  fi
  if [[ ! -d $REPLY ]]; then
    mkdir -p -- "$REPLY" || {
      log_error "cannot create the layout directory $REPLY"
      return 1
    }
  fi
  if [[ ! -e $REPLY/CACHEDIR.TAG ]]; then
    printf '%s\n' \
      'Signature: 8a477f597d28d172789f06886806bc55' \
      '# This directory holds environments that envd (or direnv) builds for a project.' \
      '# It is rebuilt on demand, so backup and archiving tools may skip it.' \
      >"$REPLY/CACHEDIR.TAG" 2>/dev/null || true
  fi
}

# Usage: layout node
#
# Puts the project's node_modules/.bin on PATH.
layout_node() {
  PATH_add node_modules/.bin
}

# Usage: layout php
#
# Puts the project's vendor/bin (Composer) on PATH.
layout_php() {
  PATH_add vendor/bin
}

# Usage: layout julia
#
# Makes the project directory Julia's active project.
layout_julia() {
  export JULIA_PROJECT=$PWD
}

# Usage: layout perl
#
# Installs CPAN modules into the layout directory through local::lib's variables.
layout_perl() {
  local REPLY lib
  __envd_x_layout_dir || return 1
  lib=$REPLY/perl5
  export LOCAL_LIB_DIR=$lib
  export PERL_MB_OPT="--install_base '$lib'"
  export PERL_MM_OPT="INSTALL_BASE=$lib"
  path_add PERL5LIB "$lib/lib/perl5"
  path_add PERL_LOCAL_LIB_ROOT "$lib"
  PATH_add "$lib/bin"
}

# Usage: layout ruby
#
# Installs gems into the layout directory (GEM_HOME) and puts bundler's binstubs and the
# gems' executables on PATH.
layout_ruby() {
  local REPLY dir engine
  __envd_x_layout_dir || return 1
  dir=$REPLY
  export BUNDLE_BIN=$dir/bin
  # RubyGems after 2.2 keeps per-version directories itself; older ones share one
  # directory between rubies, so the ruby's name and version go into the path.
  if ruby -e 'exit(Gem::VERSION > "2.2.0")' 2>/dev/null; then
    export GEM_HOME=$dir/ruby
  else
    engine=$(ruby -e 'print((defined?(RUBY_ENGINE) ? RUBY_ENGINE : "ruby") + "-" + RUBY_VERSION)') || {
      log_error "layout ruby: cannot run ruby"
      return 1
    }
    export GEM_HOME=$dir/ruby-$engine
  fi
  PATH_add "$GEM_HOME/bin"
  PATH_add "$BUNDLE_BIN"
}

# Usage: layout python [<python_exe> [<venv args>...]]
#
# Creates (once) and activates a virtual environment for the project. Its location is
# $VIRTUAL_ENV when set, else `<layout dir>/python-<major.minor>` (python-3.11, as direnv
# 2.33-2.35 name it, so a patch release of Python keeps the venv); an old-style
# `<layout dir>/virtualenv` is reused when no interpreter is named.
layout_python() {
  local python=${1:-} REPLY dir version tool reuse=
  (($# > 0)) && shift
  [[ -z $python || $python == python ]] && reuse=1
  if [[ -z $python ]]; then
    # direnv's default is `python`; many systems only have python3.
    if has python; then python=python; else python=python3; fi
  fi
  unset PYTHONHOME
  __envd_x_layout_dir || return 1
  dir=$REPLY
  if [[ -n $reuse && -d $dir/virtualenv ]]; then
    export VIRTUAL_ENV=$dir/virtualenv
    PATH_add "$VIRTUAL_ENV/bin"
    return 0
  fi
  # One run of the interpreter tells its version (major.minor) and which venv tool it has.
  read -r version tool < <(
    "$python" -c '
import platform
try:
    from importlib.util import find_spec as found
except ImportError:
    from pkgutil import find_loader as found
tool = "venv" if found("venv") else ("virtualenv" if found("virtualenv") else "-")
print(".".join(platform.python_version_tuple()[:2]) + " " + tool)
' 2>/dev/null
  ) || true
  if [[ -z $version ]]; then
    log_error "layout python: cannot run '$python' to find its version"
    return 1
  fi
  if [[ -n ${VIRTUAL_ENV:-} ]]; then
    __envd_x_abs "$VIRTUAL_ENV"
    VIRTUAL_ENV=$REPLY
  else
    VIRTUAL_ENV=$dir/python-$version
  fi
  if [[ ! -d $VIRTUAL_ENV ]]; then
    case $tool in
      venv | virtualenv)
        log_status "layout python: creating $VIRTUAL_ENV with $python -m $tool"
        "$python" -m "$tool" "$@" "$VIRTUAL_ENV" >&2 || {
          log_error "layout python: '$python -m $tool' failed"
          return 1
        }
        ;;
      *)
        log_error "layout python: $python has neither the venv nor the virtualenv module"
        return 1
        ;;
    esac
  fi
  export VIRTUAL_ENV
  PATH_add "$VIRTUAL_ENV/bin"
}

# Usage: layout python2 [<venv args>...]
layout_python2() {
  layout_python python2 "$@"
}

# Usage: layout python3 [<venv args>...]
layout_python3() {
  layout_python python3 "$@"
}

# Usage: layout pipenv
#
# Activates the virtual environment pipenv keeps for the Pipfile ($PIPENV_PIPFILE or
# ./Pipfile), installing it first when it does not exist yet.
layout_pipenv() {
  PIPENV_PIPFILE=${PIPENV_PIPFILE:-Pipfile}
  if [[ ! -f $PIPENV_PIPFILE ]]; then
    log_error "layout pipenv: no $PIPENV_PIPFILE here; create one with \`pipenv install\` first"
    exit 2
  fi
  watch_file "$PIPENV_PIPFILE"
  VIRTUAL_ENV=$(pipenv --venv 2>/dev/null) || VIRTUAL_ENV=
  if [[ -z $VIRTUAL_ENV || ! -d $VIRTUAL_ENV ]]; then
    pipenv install --dev >&2 || {
      log_error "layout pipenv: 'pipenv install --dev' failed"
      return 1
    }
    VIRTUAL_ENV=$(pipenv --venv) || return 1
  fi
  export VIRTUAL_ENV
  export PIPENV_ACTIVE=1
  PATH_add "$VIRTUAL_ENV/bin"
}

# Usage: layout pyenv <version> [<version>...]
#
# A virtual environment (see layout python) built with each pyenv-installed version;
# the first version listed wins on PATH and leads PYENV_VERSION.
layout_pyenv() {
  local root i v py user_venv=${VIRTUAL_ENV-}
  unset PYENV_VERSION
  if (($# == 0)); then
    log_error "layout pyenv: name at least one Python version"
    return 1
  fi
  root=$(pyenv root) || {
    log_error "layout pyenv: cannot run pyenv"
    return 1
  }
  for ((i = $#; i > 0; i--)); do
    v=${!i}
    py=$root/versions/$v/bin/python
    if [[ ! -x $py ]]; then
      log_error "layout pyenv: Python $v is not installed (pyenv install $v)"
      return 1
    fi
    # Each version gets its own venv (unless the user named one): layout_python would
    # otherwise reuse the VIRTUAL_ENV the previous version just exported.
    VIRTUAL_ENV=$user_venv
    layout_python "$py" || return 1
    PYENV_VERSION=$v${PYENV_VERSION:+:$PYENV_VERSION}
  done
  export PYENV_VERSION
}

# Usage: layout anaconda [<env name or prefix> [<conda exe>]]
#
# Activates a conda environment: a name (default: `name:` in ./environment.yml), or a
# prefix (`./env`, `/opt/env`). Creates it from environment.yml when it does not exist.
layout_anaconda() {
  local want=${1:-} conda=${2:-} REPLY name='' loc='' line
  if [[ -z $conda ]]; then
    conda=$(type -P conda) || {
      log_error "layout anaconda: conda is not on PATH"
      return 1
    }
  fi
  realpath.dirname "$conda"
  PATH_add "$REPLY"
  if [[ $want == ./* || $want == . || $want == ../* ]]; then
    __envd_x_abs "$want"
    loc=$REPLY
  elif [[ $want == /* ]]; then
    loc=$want
  else
    name=$want
    if [[ -z $name && -f environment.yml ]]; then
      watch_file environment.yml
      while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line == name:* ]]; then
          name=${line#name:}
          name=${name#"${name%%[![:space:]]*}"}
          name=${name%"${name##*[![:space:]]}"}
          break
        fi
      done <environment.yml
    fi
    if [[ -z $name ]]; then
      log_error "layout anaconda: no environment name (pass one, or set name: in environment.yml)"
      return 1
    fi
    loc=$(__envd_x_conda_env_path "$conda" "$name")
  fi
  if [[ -z $loc || ! -d $loc ]]; then
    if [[ ! -f environment.yml ]]; then
      log_error "layout anaconda: environment ${name:-$loc} does not exist and there is no environment.yml to create it"
      return 1
    fi
    log_status "layout anaconda: creating the conda environment ${name:-$loc}"
    if [[ -n $name ]]; then
      "$conda" env create --name "$name" >&2 || return 1
      loc=$(__envd_x_conda_env_path "$conda" "$name")
    else
      "$conda" env create --prefix "$loc" >&2 || return 1
    fi
  fi
  eval "$("$conda" shell.bash activate "$loc")"
}

# Prints the prefix of the conda environment called $2 (from `conda env list`).
__envd_x_conda_env_path() {
  local line first
  while IFS= read -r line; do
    [[ $line == '#'* || -z $line ]] && continue
    first=${line%%[[:space:]]*}
    if [[ $first == "$2" ]]; then
      printf '%s\n' "/${line#*[[:space:]]/}"
      return 0
    fi
  done < <("$1" env list 2>/dev/null)
}

# Usage: layout opam [<switch>]
#
# Loads an opam switch: the project's local switch (`_opam`, made with
# `opam switch create .`) by default, else the named one.
layout_opam() {
  local switch=${1:-$PWD} code
  if ! has opam; then
    log_error "layout opam: opam is not on PATH"
    return 1
  fi
  if [[ -z ${1:-} && ! -d $PWD/_opam ]]; then
    log_error "layout opam: no local switch here; create it with \`opam switch create .\`"
    return 1
  fi
  # The switch's state file changes on every install/remove in the switch.
  [[ -z ${1:-} ]] && watch_file "$PWD/_opam/.opam-switch/switch-state"
  code=$(opam env --switch="$switch" --set-switch --shell=bash) || {
    log_error "layout opam: 'opam env --switch=$switch' failed"
    return 1
  }
  eval "$code"
}
