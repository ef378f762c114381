/* Each work-item writes its slot of local memory and reads its neighbour's with no
 * barrier in between: a read-write data race that `oclgrind --data-races` must report
 * (tests/hazards/oclgrind.sh checks the checker with it). */
kernel void race(global int *out)
{
  local int slot[4];
  size_t l = get_local_id(0);
  slot[l] = (int)get_global_id(0);
  out[get_global_id(0)] = slot[(l + 1) % 4];
}
