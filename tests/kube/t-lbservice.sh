# shellcheck shell=bash
# A Gateway without spec.addresses: its LoadBalancer Service, made by the
# leader (node-a), given an address by "MetalLB" (the control API's
# /lb-ingress), then real TLS through that VIP. Sourced by
# tests/kube/run.sh, which holds the state and the order the checks run in.

lb_gateway() {	# NAME PORT [ADDRESS]
	echo "apiVersion: gateway.networking.k8s.io/v1"
	echo "kind: Gateway"
	echo "metadata: {name: $1, namespace: infra}"
	echo "spec:"
	echo "  gatewayClassName: snilb"
	[ -z "${3:-}" ] || echo "  addresses: [{type: IPAddress, value: $3}]"
	echo "  listeners:"
	echo "  - {name: tls, port: $2, protocol: TLS, hostname: lb.example.com,"
	echo "     tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: Same}}}"
}

# curl through VIP:PORT to lb.example.com, until it answers WANT (30 s).
lb_poll() {	# NAME WANT VIP PORT
	local t0=$EPOCHREALTIME got out
	while :; do
		out=$(cli curl -sk --max-time 1 \
			--resolve "lb.example.com:$4:$3" \
			"https://lb.example.com:$4/" 2>/dev/null)
		got=${out#backend=}
		got=${got%%[[:space:]]*}
		[ "$got" = "$2" ] && break
		[ "$(ms_since "$t0")" -gt 30000 ] && {
			bad "$1: lb.example.com via $3:$4 not -> $2 in 30 s" \
				"(last: '$got')"
			return 1
		}
		sleep 0.05
	done
	ok "$1: lb.example.com via $3:$4 -> $2 in $(ms_since "$t0") ms"
}

t_lbservice() {
	local vip=198.18.0.30 svc=snilb-gw-lbgw rv rv2
	{
		lb_gateway lbgw 443; echo ---
		route infra lbr lb.example.com lbback |
			sed 's/name: edge, namespace: infra/name: lbgw/'
		echo ---; service infra lbback 443 198.18.2.11
	} | apply || { bad "/apply of Gateway infra/lbgw"; return; }
	kq_check lbsvc infra "$svc" lbgw 443
	kq_check programmed infra lbgw False/AddressNotAssigned \
		"Service infra/$svc"
	rv=$(TMO=2 get lb.example.com "$vip")
	case $rv in
	b1) bad "no address yet, yet lb.example.com via $vip -> b1" ;;
	*) ok "no address yet: lb.example.com via $vip not served ($rv)" ;;
	esac

	# MetalLB gives it an address: served there, and in status.
	ctl POST /lb-ingress "{\"namespace\":\"infra\",\"name\":\"$svc\",\"ips\":[\"$vip\"]}" >/dev/null
	lb_poll "status.loadBalancer.ingress $vip" b1 "$vip" 443
	kq_check programmed infra lbgw True/Programmed "" "$vip"

	# The listener's port changes: so does the Service's, and the VIP
	# listens on the new one.
	lb_gateway lbgw 8443 | apply
	kq_check lbsvc infra "$svc" lbgw 8443
	lb_poll "listener port 443 -> 8443" b1 "$vip" 8443

	# spec.addresses given: the Service is deleted; taken away: back.
	lb_gateway lbgw 443 198.18.0.31 | apply
	kq_check gone Service infra "$svc" "the Gateway has spec.addresses"
	lb_gateway lbgw 443 | apply
	kq_check lbsvc infra "$svc" lbgw 443
	del Gateway infra lbgw
	kq_check gone Service infra "$svc" "the Gateway is deleted"

	# A Service of that name without snilb's label: never changed, and
	# the Gateway says why.
	{ service infra snilb-gw-lbgw2 9443; echo ---; lb_gateway lbgw2 443; } |
		apply
	rv=$(kq obj Service infra snilb-gw-lbgw2 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
	kq_check programmed infra lbgw2 False/AddressNotAssigned "not snilb's"
	del Gateway infra lbgw2
	kq_check gone Gateway infra lbgw2 "(the test's)"
	rv2=$(kq obj Service infra snilb-gw-lbgw2 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
	check "Service infra/snilb-gw-lbgw2 without snilb's label: never modified nor deleted (resourceVersion)" \
		"$rv" "$rv2"
	del Service infra snilb-gw-lbgw2
	del TLSRoute infra lbr
	del Service infra lbback
	del EndpointSlice infra lbback-1
}
