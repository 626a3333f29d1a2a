# Fleet drift check: every server of the enterprise project against one port policy, in a few
# requests however many servers there are. Works on Terraform 1.0 and later.
#
# The check reads the fleet's distinct open ports first (a page per ~200 port/protocol pairs),
# then, only for the pairs the policy does not allow on every address, the servers that have
# them open. With fail_on_drift, the plan fails with an error that lists the violations server by
# server. Compare examples/fleet-for-each, which reads every server one by one.

terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

variable "allowed" {
  type        = list(string)
  description = "What any server may listen on: rules such as \"22/tcp\" or \"*@loopback\"."
  default = [
    "22/tcp",     # ssh, on any address
    "80/tcp",     # the web
    "443/tcp",    # the web, with TLS
    "68/udp",     # DHCP client
    "123/udp",    # NTP
    "*@loopback", # anything only the server itself can reach
    "1024-39999", # application ports
  ]
}

data "hss_fleet_port_drift" "fleet" {
  allowed       = var.allowed
  fail_on_drift = true
}

output "summary" {
  value = data.hss_fleet_port_drift.fleet.summary
}

output "in_policy" {
  value = data.hss_fleet_port_drift.fleet.in_policy
}

output "requests" {
  description = "API requests the check took."
  value       = data.hss_fleet_port_drift.fleet.requests
}
