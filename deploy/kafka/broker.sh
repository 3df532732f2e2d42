#!/usr/bin/env bash
# Starts one KRaft node (broker + controller) of the apache/kafka image the way Jobbro needs it secured:
# clients on SASL_SSL with SCRAM-SHA-512, the StandardAuthorizer refusing whatever no ACL allows, the controller
# listener on SASL/PLAIN, never anonymous. Used by deploy/compose (mounted) and deploy/k8s (ConfigMap kafka-broker,
# made from this file: kubectl create configmap kafka-broker -n jobbro --from-file=deploy/kafka/broker.sh).
#
# Environment:
#   KAFKA_ADVERTISED_HOST   the name clients reach the broker by (and the TLS certificate names)
#   KAFKA_SECRETS           a directory with one file per password, named KAFKA_SECRET_PREFIX (default none) plus
#                           admin, subsidy, benefits, activation, notify, payment-back-office, integrator-example,
#                           controller (the controller listener) and keystore (the PKCS12 keystore)
#   KAFKA_TLS               a directory with broker.p12 (PKCS12, password in $KAFKA_SECRETS/keystore) and ca.pem;
#                           with KAFKA_DEVELOPMENT_TLS=true a development CA and certificate are made there if absent
# SCRAM credentials are set when the storage is formatted; the ACLs come from `python -m contracts.provision`.
set -euo pipefail
: "${KAFKA_ADVERTISED_HOST:?}" "${KAFKA_SECRETS:?}" "${KAFKA_TLS:?}"
PRINCIPALS="admin subsidy benefits activation notify payment-back-office integrator-example"
DATA=/var/lib/kafka/data
CONFIG=/tmp/server.properties
secret() { tr -d '\n' <"$KAFKA_SECRETS/${KAFKA_SECRET_PREFIX:-}$1"; }
for name in $PRINCIPALS controller keystore; do # the placeholders of deploy/k8s/secrets/placeholders.yaml
	case "$(secret "$name")" in development-only-*)
		echo "broker.sh: the password of $name is a placeholder (development-only-…): set a real one" >&2
		exit 1
		;;
	esac
done

if [ ! -s "$KAFKA_TLS/broker.p12" ] && [ "${KAFKA_DEVELOPMENT_TLS:-false}" = true ]; then
	echo "broker.sh: making a DEVELOPMENT CA and certificate for $KAFKA_ADVERTISED_HOST in $KAFKA_TLS" >&2
	pass="$(secret keystore)" ca="$KAFKA_TLS/ca.p12"
	keytool -genkeypair -keystore "$ca" -storetype PKCS12 -storepass "$pass" -alias ca -keyalg RSA -keysize 2048 \
		-validity 3650 -dname "CN=Jobbro DEVELOPMENT Kafka CA" -ext bc:c
	keytool -exportcert -rfc -keystore "$ca" -storepass "$pass" -alias ca -file "$KAFKA_TLS/ca.pem"
	keytool -genkeypair -keystore "$KAFKA_TLS/broker.p12" -storetype PKCS12 -storepass "$pass" -alias broker \
		-keyalg RSA -keysize 2048 -validity 825 -dname "CN=$KAFKA_ADVERTISED_HOST"
	keytool -certreq -keystore "$KAFKA_TLS/broker.p12" -storepass "$pass" -alias broker |
		keytool -gencert -keystore "$ca" -storepass "$pass" -alias ca -rfc -validity 825 \
			-ext "SAN=dns:$KAFKA_ADVERTISED_HOST,dns:localhost" -ext eku=serverAuth,clientAuth >"$KAFKA_TLS/broker.pem"
	keytool -importcert -noprompt -keystore "$KAFKA_TLS/broker.p12" -storepass "$pass" -alias ca -file "$KAFKA_TLS/ca.pem"
	keytool -importcert -noprompt -keystore "$KAFKA_TLS/broker.p12" -storepass "$pass" -alias broker \
		-file "$KAFKA_TLS/broker.pem"
fi

cat >"$CONFIG" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=SASL_SSL://:9092,CONTROLLER://localhost:9093
advertised.listeners=SASL_SSL://$KAFKA_ADVERTISED_HOST:9092
inter.broker.listener.name=SASL_SSL
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret admin)";
ssl.keystore.type=PKCS12
ssl.keystore.location=$KAFKA_TLS/broker.p12
ssl.keystore.password=$(secret keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_TLS/ca.pem
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$(secret controller)" user_controller="$(secret controller)";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:controller
log.dirs=$DATA
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
chmod 600 "$CONFIG"

if [ ! -f "$DATA/meta.properties" ]; then
	scram=()
	for principal in $PRINCIPALS; do
		scram+=(--add-scram "SCRAM-SHA-512=[name=$principal,password=$(secret "$principal")]")
	done
	/opt/kafka/bin/kafka-storage.sh format -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" -c "$CONFIG" \
		"${scram[@]}" >/dev/null
fi
exec /opt/kafka/bin/kafka-server-start.sh "$CONFIG"
