# envd completion for fish. Load it with:
#   envd completion fish | source           (in ~/.config/fish/config.fish)
# or save it as ~/.config/fish/completions/envd.fish
# The verb table between the generated markers comes from src/cli/verbs.ts; the rest is
# written here. `envd completion fish` prints this file as it is.

# ---- generated from src/cli/verbs.ts by `npm run completions`: do not edit ----
function __envd_verbs
    printf '%s\n' 'hook	print the prompt hook for a shell' 'allow	approve an .envrc\'s current content' 'permit	approve an .envrc\'s current content (alias of allow)' 'grant	approve an .envrc\'s current content (alias of allow)' 'deny	block an .envrc (wins over approvals)' 'block	block an .envrc (wins over approvals) (alias of deny)' 'revoke	block an .envrc (wins over approvals) (alias of deny)' 'disallow	block an .envrc (wins over approvals) (alias of deny)' 'export	print what changes in this directory' 'exec	run a command with a directory\'s environment' 'status	what is loaded, found and allowed, and why' 'reload	evaluate the env file again at the next prompt' 'edit	open the .envrc in $EDITOR and approve the result' 'prune	drop approvals of files that are gone or changed' 'stdlib	print the bash stdlib' 'version	print the version, or check it is at least MIN' 'go	Go SDKs: list, which one a directory gets, install' 'daemon	manage the per-user daemon' 'doctor	check the installation: hook, daemon, files, config, bash, Go' 'completion	print tab completion for a shell' 'dump	print this environment for a parent to load' 'apply_dump	bash code that turns the environment into a dump' 'show_dump	decode a dump for reading' 'watch	record a file the loaded environment depends on' 'watch-dir	record a directory the loaded environment depends on' 'watch-list	the files the environment depends on, with their state' 'watch-print	the files the environment depends on' 'dotenv	print a .env file as exports' 'current	exit 0 when PATH is watched and unchanged' 'fetchurl	fetch a URL into the cache (with an integrity pin)' 'check-required	list the files that are not approved (require_allowed)' 'help	list the commands'
end

function __envd_subcommands -S
    switch $argv[1]
        case go
            set subs 'list	Go SDKs installed on this machine' 'which	the GOROOT a directory gets, and why' 'install	download, verify and install a Go release' 'uninstall	remove a Go that envd installed'
        case daemon
            set subs 'start	start the daemon if it is not running' 'stop	stop the daemon' 'restart	stop the daemon and start a new one' 'status	whether the daemon answers, and its version' 'run	run the daemon in the foreground' 'logs	print the end of the daemon\'s log' 'install	write a systemd user unit or launchd agent for the daemon'
    end
end

function __envd_spec -S
    switch $argv[1]
        case hook
            set opts
            set valopts
            set pos words:bash,zsh,fish,elvish,tcsh,nushell
            set rest none
        case allow
            set opts
            set valopts
            set pos file
            set rest none
        case permit
            set opts
            set valopts
            set pos file
            set rest none
        case grant
            set opts
            set valopts
            set pos file
            set rest none
        case deny
            set opts
            set valopts
            set pos file
            set rest none
        case block
            set opts
            set valopts
            set pos file
            set rest none
        case revoke
            set opts
            set valopts
            set pos file
            set rest none
        case disallow
            set opts
            set valopts
            set pos file
            set rest none
        case export
            set opts '--budget	milliseconds to wait for a slow .envrc'
            set valopts --budget=none
            set pos words:bash,zsh,fish,elvish,tcsh,nushell,json,gha
            set rest none
        case exec
            set opts
            set valopts
            set pos dir command
            set rest file
        case status
            set opts '--json	machine-readable output'
            set valopts
            set pos
            set rest none
        case reload
            set opts
            set valopts
            set pos file
            set rest none
        case edit
            set opts
            set valopts
            set pos file
            set rest none
        case prune
            set opts
            set valopts
            set pos
            set rest none
        case stdlib
            set opts
            set valopts
            set pos
            set rest none
        case version
            set opts
            set valopts
            set pos none
            set rest none
        case go
            set opts
            set valopts
            set pos
            set rest none
        case 'go list'
            set opts '--json	machine-readable output'
            set valopts
            set pos
            set rest none
        case 'go which'
            set opts '--json	machine-readable output' '--dir	directory to resolve for'
            set valopts --dir=dir
            set pos none
            set rest none
        case 'go install'
            set opts '--dir	install what this directory pins'
            set valopts --dir=dir
            set pos none
            set rest none
        case 'go uninstall'
            set opts
            set valopts
            set pos none
            set rest none
        case daemon
            set opts
            set valopts
            set pos
            set rest none
        case 'daemon start'
            set opts
            set valopts
            set pos
            set rest none
        case 'daemon stop'
            set opts
            set valopts
            set pos
            set rest none
        case 'daemon restart'
            set opts
            set valopts
            set pos
            set rest none
        case 'daemon status'
            set opts '--json	machine-readable output'
            set valopts
            set pos
            set rest none
        case 'daemon run'
            set opts
            set valopts
            set pos
            set rest none
        case 'daemon logs'
            set opts '-n	how many lines (default 50)'
            set valopts -n=none
            set pos
            set rest none
        case 'daemon install'
            set opts '--print	print the unit instead of writing it' '--force	overwrite an existing unit' '--remove	remove the unit envd wrote' '--platform	write for this platform'
            set valopts --platform=words:linux,darwin
            set pos
            set rest none
        case doctor
            set opts '--json	machine-readable output' '--no-start	do not start the daemon to check it'
            set valopts
            set pos
            set rest none
        case completion
            set opts
            set valopts
            set pos words:bash,zsh,fish
            set rest none
        case dump
            set opts
            set valopts
            set pos words:gzenv,json,bash,zsh,fish,elvish,tcsh,nushell file
            set rest none
        case apply_dump
            set opts
            set valopts
            set pos file
            set rest none
        case show_dump
            set opts
            set valopts
            set pos file
            set rest none
        case watch
            set opts
            set valopts
            set pos words:bash,zsh,fish,elvish,tcsh,nushell
            set rest file
        case watch-dir
            set opts
            set valopts
            set pos dir
            set rest none
        case watch-list
            set opts '--json	machine-readable output'
            set valopts
            set pos
            set rest none
        case watch-print
            set opts '--null	separate with NUL bytes' '-0	separate with NUL bytes'
            set valopts
            set pos
            set rest none
        case dotenv
            set opts
            set valopts
            set pos words:bash,zsh,fish,elvish,tcsh,nushell,json,gha file
            set rest none
        case current
            set opts
            set valopts
            set pos file
            set rest none
        case fetchurl
            set opts
            set valopts
            set pos none none
            set rest none
        case check-required
            set opts
            set valopts
            set pos
            set rest file
        case help
            set opts
            set valopts
            set pos
            set rest none
        case '*'
            return 1
    end
end
# ---- end of generated ----

function __envd_kind --argument-names kind cur
    switch $kind
        case 'words:*'
            string split , -- (string replace -r '^words:' '' -- $kind)
        case file
            __fish_complete_path $cur
        case dir
            __fish_complete_directories $cur
        case command
            complete -C "$cur"
    end
end

function __envd_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    if test (count $words) -lt 2
        __envd_verbs
        return
    end
    set -l cmd $words[2]
    set -l i 3
    set -l subs
    __envd_subcommands $cmd
    if test (count $subs) -gt 0
        if test (count $words) -lt 3
            printf '%s\n' $subs
            return
        end
        set cmd "$cmd $words[3]"
        set i 4
    end
    set -l opts
    set -l valopts
    set -l pos
    set -l rest none
    __envd_spec $cmd; or return
    for vo in $valopts
        if test "$words[-1]" = (string replace -r '=.*' '' -- $vo)
            __envd_kind (string replace -r '^[^=]*=' '' -- $vo) $cur
            return
        end
    end
    if string match -q -- '-*' $cur; and test (count $opts) -gt 0
        printf '%s\n' $opts
        return
    end
    set -l n 0
    set -l skip 0
    while test $i -le (count $words)
        set -l w $words[$i]
        set i (math $i + 1)
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $w
            for vo in $valopts
                if test "$w" = (string replace -r '=.*' '' -- $vo)
                    set skip 1
                end
            end
            continue
        end
        set n (math $n + 1)
    end
    if test $n -lt (count $pos)
        __envd_kind $pos[(math $n + 1)] $cur
    else
        __envd_kind $rest $cur
    end
end

complete -c envd -e
complete -c envd -f -a '(__envd_complete)'
