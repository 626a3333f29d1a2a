# `terraform test` (Terraform >= 1.6): the policy module against the simulator's reference host,
# which listens on UDP/68 (0.0.0.0, dhclient) and UDP/323 (127.0.0.1, chronyd).

variables {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

run "reference_host_is_in_policy" {
  command = plan

  variables {
    allowed = ["68/udp", "323/udp@loopback"]
  }

  assert {
    condition     = output.in_policy
    error_message = "the reference host should be in policy"
  }
}

run "chronyd_is_unexpected_without_its_rule" {
  command = plan

  variables {
    allowed = ["68/udp"]
  }

  assert {
    condition     = output.unexpected == ["UDP/323"]
    error_message = "only UDP/323 should be unexpected, got ${jsonencode(output.unexpected)}"
  }
}

run "loopback_rule_does_not_allow_a_wildcard_listener" {
  command = plan

  variables {
    allowed = ["68/udp@loopback", "323/udp"]
  }

  assert {
    condition     = output.unexpected == ["UDP/68"]
    error_message = "dhclient on 0.0.0.0 must not pass a loopback rule"
  }
}
