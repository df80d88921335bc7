// FSBP EC2.15: subnets do not auto-assign public IPv4 addresses (even the ALB's public subnets:
// the ALB brings its own addresses; anything else launched there should not get one by accident).
import { fsbp, isTrue, resourceRule, T } from "../support.js";

export const ec2SubnetNoAutoPublicIp = resourceRule(
  {
    name: "ec2-subnet-no-auto-public-ip",
    description: "Subnets do not assign public IPv4 addresses on launch (mapPublicIpOnLaunch false).",
    enforcementLevel: "mandatory",
    severity: "medium",
    framework: fsbp("EC2.15"),
  },
  [T.subnet],
  (props) => (isTrue(props.mapPublicIpOnLaunch) ? "mapPublicIpOnLaunch is true" : null),
);
