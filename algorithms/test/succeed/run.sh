echo "succeed: starting as $(id -u):$(id -g)"
count=$(find /input -type f | wc -l)
echo "succeed: found $count input files"
{
  echo "uid=$(id -u) gid=$(id -g)"
  echo "inputs=$count"
  echo "message=${KAAPANA_TEST_MESSAGE:-}"
} >/output/result.txt
echo "succeed: a note on stderr" >&2
echo "succeed: done"
