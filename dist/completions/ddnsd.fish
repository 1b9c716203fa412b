# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ddnsd_global_optspecs
    string join \n log-level= log-format= h/help V/version
end

function __fish_ddnsd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ddnsd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ddnsd_using_subcommand
    set -l cmd (__fish_ddnsd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ddnsd -n "__fish_ddnsd_needs_command" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_needs_command" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "run" -d 'Keep the records current (a daemon; --once for a single pass)'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "detect" -d 'Show every candidate address per source, selected or skipped and why'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "check" -d 'Check the config and exit (0 valid, 2 invalid)'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "status" -d 'Show the running daemon\'s records, providers and sources (exit 1 if any record fails)'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "init" -d 'Print a commented example config, with every provider kind\'s block'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "completions" -d 'Print a shell completion script (install it where the shell looks for completions)'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "man" -d 'Print the manual page (roff): ddnsd(1), or ddnsd-COMMAND(1) for one command'
complete -c ddnsd -n "__fish_ddnsd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -s c -l config -d 'Config file [default: $DDNSD_CONFIG, else /etc/ddnsd/ddnsd.toml, else the embedded default]' -r -F
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l pid-file -d 'Where --daemonize writes the daemon\'s PID' -r -F
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l once -d 'One detect → plan → apply pass, then exit (for cron and timers)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l dry-run -d 'Plan and print; call no provider write and write no state'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -l daemonize -d 'Fork into the background (systemd Type=forking); needs --pid-file'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand run" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -s c -l config -d 'Config file [default: $DDNSD_CONFIG, else /etc/ddnsd/ddnsd.toml, else the embedded default]' -r -F
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -l json -d 'Machine-readable output'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand detect" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand check" -s c -l config -d 'Config file [default: $DDNSD_CONFIG, else /etc/ddnsd/ddnsd.toml, else the embedded default]' -r -F
complete -c ddnsd -n "__fish_ddnsd_using_subcommand check" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand check" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand check" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -s c -l config -d 'Config file [default: $DDNSD_CONFIG, else /etc/ddnsd/ddnsd.toml, else the embedded default]' -r -F
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -l json -d 'The daemon\'s JSON document, as served at /status'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand status" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand init" -l provider -d 'Print only this provider kind\'s block, ready to paste into a config' -r
complete -c ddnsd -n "__fish_ddnsd_using_subcommand init" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand init" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand init" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand completions" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand completions" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand man" -l log-level -d 'Log verbosity' -r -f -a "error\t'Errors only'
warn\t'Warnings and errors'
info\t'What changed (default)'
debug\t'Every decision'
trace\t'Everything, including protocol details (never secrets)'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand man" -l log-format -d 'Log line format (logs go to standard error)' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c ddnsd -n "__fish_ddnsd_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand man" -s V -l version -d 'Print version'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "run" -d 'Keep the records current (a daemon; --once for a single pass)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "detect" -d 'Show every candidate address per source, selected or skipped and why'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "check" -d 'Check the config and exit (0 valid, 2 invalid)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "status" -d 'Show the running daemon\'s records, providers and sources (exit 1 if any record fails)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "init" -d 'Print a commented example config, with every provider kind\'s block'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "completions" -d 'Print a shell completion script (install it where the shell looks for completions)'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "man" -d 'Print the manual page (roff): ddnsd(1), or ddnsd-COMMAND(1) for one command'
complete -c ddnsd -n "__fish_ddnsd_using_subcommand help; and not __fish_seen_subcommand_from run detect check status init completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
