# bash completion for vigil (installed to share/bash-completion/completions/vigil)
_vigil() {
    local cur prev words cword
    _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
    local commands="run status values alarms alarm queue diag gpio uplink config board profile bundle simulate receive demo help"
    local socket_opts="--json --socket"
    local probe_opts="--bus --tcp --rtu --rtu-over-tcp --baud --parity --data-bits --stop-bits --timeout-ms --unit --table --address --register --count --type --order"
    case "$prev" in
        --config|--out|--rtu) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --table) COMPREPLY=($(compgen -W "coil discrete holding input" -- "$cur")); return ;;
        --type) COMPREPLY=($(compgen -W "bool int16 uint16 int32 uint32 int64 uint64 float32 float64 string" -- "$cur")); return ;;
        --order) COMPREPLY=($(compgen -W "abcd cdab badc dcba" -- "$cur")); return ;;
        --parity) COMPREPLY=($(compgen -W "none even odd" -- "$cur")); return ;;
        --log-level) COMPREPLY=($(compgen -W "error warning info debug" -- "$cur")); return ;;
        --bus) COMPREPLY=($(compgen -W "$(vigil status --json 2>/dev/null | sed -n 's/.*"endpoint".*//; s/^ *"id" : "\(.*\)",$/\1/p' | sort -u)" -- "$cur")); return ;;
    esac
    if [ "$cword" -eq 1 ]; then COMPREPLY=($(compgen -W "$commands" -- "$cur")); return; fi
    case "${words[1]}" in
        diag)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "read write scan watch frames" -- "$cur"))
            else COMPREPLY=($(compgen -W "$probe_opts $socket_opts --values --value --yes --units --interval" -- "$cur")); fi ;;
        alarm) [ "$cword" -eq 2 ] && COMPREPLY=($(compgen -W "ack" -- "$cur")) ;;
        queue) COMPREPLY=($(compgen -W "peek dead-letters retry delete --yes $socket_opts" -- "$cur")) ;;
        gpio) COMPREPLY=($(compgen -W "read set reset on off auto --yes $socket_opts" -- "$cur")) ;;
        uplink) [ "$cword" -eq 2 ] && COMPREPLY=($(compgen -W "test" -- "$cur")) ;;
        config)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "check tsl" -- "$cur"))
            elif [ "$prev" = "--user" ]; then COMPREPLY=($(compgen -u -- "$cur"))
            elif [ "${words[2]}" = "tsl" ]; then COMPREPLY=($(compgen -f -W "--product-key" -- "$cur"))
            else COMPREPLY=($(compgen -f -W "--as-service --user" -- "$cur")); fi ;;
        board|profile)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "list show$([ "${words[1]}" = profile ] && echo ' tsl')" -- "$cur"))
            else COMPREPLY=($(compgen -W "$(vigil "${words[1]}" list 2>/dev/null | awk 'NR > 1 { print $1 }')" -- "$cur")); fi ;;
        help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$socket_opts --config --duration --log-level --out --help" -- "$cur")) ;;
    esac
}
complete -F _vigil vigil
