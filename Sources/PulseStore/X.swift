import PulseCore
public enum P2 {}
