terraform {
  required_providers {
    hss = {
      source = "local/hss"
    }
  }
}

provider "hss" {}

# No server of the fleet may listen on anything but ssh, the web, DHCP, NTP, loopback-only
# services and application ports. Set fail_on_drift = true to stop the plan on a violation.
data "hss_fleet_port_drift" "fleet" {
  allowed = ["22/tcp", "80/tcp", "443/tcp", "68/udp", "123/udp", "*@loopback", "1024-39999"]
}

output "fleet_policy" {
  value = data.hss_fleet_port_drift.fleet.summary
}

output "servers_in_violation" {
  value = data.hss_fleet_port_drift.fleet.hosts_in_violation
}
