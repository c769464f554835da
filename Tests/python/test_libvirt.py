# add_domain through libvirt's test driver (test:///path/node.xml, no
# libvirtd): disk counts, readonlydisk, running domains and errors.  No
# appliance: the disks are only added.

import subprocess

import pytest

import guestfs


@pytest.fixture
def uri(tmp_path):
    raw = tmp_path / "a.img"
    with open(raw, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    qcow = tmp_path / "b.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "16M"], check=True)

    def domain(name, disks, running=False):
        state = "" if running else "<test:runstate>5</test:runstate>"
        return ("<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
                "<name>%s</name><memory>131072</memory><os><type>hvm</type></os>"
                "<devices>%s</devices>%s</domain>" % (name, disks, state))

    raw_disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                "<source file='%s'/><target dev='vda'/></disk>" % raw)
    qcow_ro = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
               "<source file='%s'/><target dev='vdb'/><readonly/></disk>" % qcow)
    node = tmp_path / "node.xml"
    node.write_text("<node>%s%s</node>" % (domain("off", raw_disk + qcow_ro),
                                           domain("running", raw_disk, running=True)))
    return "test://%s" % node


def test_add_domain(g, uri):
    assert g.add_domain("off", libvirturi=uri) == 2
    assert g.add_domain("off", libvirturi=uri, readonlydisk="ignore") == 1
    assert g.add_domain("running", libvirturi=uri, readonly=True) == 1


def test_add_domain_errors(g, uri):
    with pytest.raises(RuntimeError, match="no libvirt domain called 'nope'"):
        g.add_domain("nope", libvirturi=uri)
    with pytest.raises(RuntimeError, match="is running"):
        g.add_domain("running", libvirturi=uri)
    with pytest.raises(RuntimeError, match="readonlydisk is 'error'"):
        g.add_domain("off", libvirturi=uri, readonlydisk="error")
    with pytest.raises(RuntimeError, match="live"):
        g.add_domain("off", libvirturi=uri, live=True)
    # Nothing was added by the failed calls.
    assert g.add_domain("off", libvirturi=uri, readonly=True, readonlydisk="error") == 2
