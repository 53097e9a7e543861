// The vocabulary every command speaks (configs, records, profiles, the clock):
// the executable depends on the agent and the lab, and sees Core through them.
@_exported import VigilCore
