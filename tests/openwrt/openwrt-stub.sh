# What /etc/init.d/ddnsd (dist/openwrt/ddnsd.init) uses from OpenWrt, re-implemented for
# tests on a machine without OpenWrt:
# - /lib/functions.sh's UCI reader (config_load, config_get, config_get_bool, config_foreach,
#   config_list_foreach, reset_cb and the option/list callbacks), with the same variables and
#   semantics as OpenWrt's: config_load evaluates `uci export` output, whose lines are the
#   shell commands `config TYPE 'NAME'`, `option NAME 'VALUE'` and `list NAME 'VALUE'`. The
#   UCI file is read from $UCI_CONFIG_DIR/PACKAGE (the /etc/config format is what `uci export`
#   prints, comments aside, which the shell skips too);
# - /lib/functions/network.sh's network_get_device/network_get_physdev, answering from
#   $NETWORK_DEVICES ("wan6=pppoe-wan lan=br-lan": the interfaces that are up);
# - procd and rc.common: every call is appended to $PROCD_LOG instead of reaching procd;
#   procd_running answers from $PROCD_RUNNING (1 = running).

LIST_SEP=" "

reset_cb() {
	config_cb() { return 0; }
	option_cb() { return 0; }
	list_cb() { return 0; }
}
reset_cb

config() {
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	CONFIG_SECTION="${2:-cfg$CONFIG_NUM_SECTIONS}"
	CONFIG_SECTIONS="${CONFIG_SECTIONS:+$CONFIG_SECTIONS }$CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
	config_cb "$1" "$CONFIG_SECTION"
}

option() {
	local name="$1"
	shift
	config_set "$CONFIG_SECTION" "$name" "$*"
	option_cb "$name" "$*"
}

list() {
	local name="$1" len
	shift
	config_get len "$CONFIG_SECTION" "${name}_LENGTH" 0
	[ "$len" = 0 ] && CONFIG_LIST_STATE="${CONFIG_LIST_STATE:+$CONFIG_LIST_STATE }${CONFIG_SECTION}_${name}"
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${name}_ITEM$len" "$*"
	config_set "$CONFIG_SECTION" "${name}_LENGTH" "$len"
	eval "CONFIG_${CONFIG_SECTION}_${name}=\"\${CONFIG_${CONFIG_SECTION}_${name}:+\$CONFIG_${CONFIG_SECTION}_${name}\$LIST_SEP}\$*\""
	list_cb "$name" "$*"
}

package() { return 0; }

config_set() {
	eval "CONFIG_${1}_${2}=\"\$3\""
}

# Like OpenWrt's uci_load: lists from an earlier load are reset, so a second load in the same
# shell does not append to them.
config_load() {
	local list
	for list in $CONFIG_LIST_STATE; do
		eval "CONFIG_${list}=''; CONFIG_${list}_LENGTH=''"
	done
	CONFIG_LIST_STATE="" CONFIG_SECTIONS="" CONFIG_NUM_SECTIONS=0 CONFIG_SECTION=""
	[ -f "$UCI_CONFIG_DIR/$1" ] || return 1
	. "$UCI_CONFIG_DIR/$1"
}

# config_get VAR SECTION OPTION [DEFAULT]
config_get() {
	eval "$1=\"\${CONFIG_${2}_${3}:-\$4}\""
}

config_get_bool() {
	local value
	config_get value "$2" "$3" "$4"
	case "$value" in
	1 | on | true | yes | enabled) value=1 ;;
	0 | off | false | no | disabled) value=0 ;;
	*) value="$4" ;;
	esac
	eval "$1=\"\$value\""
}

config_foreach() {
	local function="$1" type="$2" section section_type
	shift 2
	for section in $CONFIG_SECTIONS; do
		config_get section_type "$section" TYPE
		[ "$section_type" = "$type" ] || continue
		"$function" "$section" "$@"
	done
}

config_list_foreach() {
	local section="$1" name="$2" function="$3" len i=1 value
	shift 3
	config_get len "$section" "${name}_LENGTH"
	[ -n "$len" ] || return 0
	while [ "$i" -le "$len" ]; do
		config_get value "$section" "${name}_ITEM$i"
		"$function" "$value" "$@"
		i=$((i + 1))
	done
}

network_get_device() {
	local pair
	eval "$1=''"
	for pair in $NETWORK_DEVICES; do
		if [ "${pair%%=*}" = "$2" ]; then
			eval "$1=\"\${pair#*=}\""
			return 0
		fi
	done
	return 1
}

network_get_physdev() {
	eval "$1=''"
	return 1
}

procd_log() { echo "$*" >>"$PROCD_LOG"; }
procd_open_instance() { procd_log open_instance; }
procd_set_param() { procd_log set_param "$@"; }
procd_close_instance() { procd_log close_instance; }
procd_send_signal() { procd_log send_signal "$@"; }
procd_add_reload_trigger() { procd_log add_reload_trigger "$@"; }
procd_running() { [ "$PROCD_RUNNING" = 1 ]; }
start() { procd_log start && start_service; }
