"""mocap VMC receiver for Blender: listens to the VMC protocol (OSC over UDP) and drives an armature.

Install: ``mocap blender-addon -o mocap_vmc.zip``, then in Blender Edit > Preferences > Add-ons > Install from
Disk. Panel: View3D sidebar > "VMC". Pick an armature whose bones carry Mixamo names (``mixamorig:Hips`` ...)
or the plain names (``Hips``, ``LeftArm`` ...) of mocap's BVH files, rest pose a T-pose; press Start.
"Record" keys every pose received at the current frame and steps the frame on.

Wire format (VMC): ``/VMC/Ext/Bone/Pos s f f f f f f f`` = Unity HumanBodyBones name, local position (m) and local
rotation (quaternion x y z w) relative to the T-pose, in Unity's left-handed Y-up frame; the Hips' position is
the body's. No dependency beyond Blender: the OSC decoding is here.
"""
import socket
import struct

bl_info = {
    "name": "mocap VMC receiver",
    "author": "mocap contributors",
    "version": (0, 1, 0),
    "blender": (3, 6, 0),
    "location": "View3D > Sidebar > VMC",
    "description": "Drive an armature from a VMC (OSC/UDP) stream, e.g. `mocap live`",
    "category": "Animation",
}

# Unity HumanBodyBones -> bone names tried on the armature, in order
BONES = {
    "Hips": "Hips", "Spine": "Spine", "Chest": "Spine1", "UpperChest": "Spine2", "Neck": "Neck", "Head": "Head",
    "LeftShoulder": "LeftShoulder", "LeftUpperArm": "LeftArm", "LeftLowerArm": "LeftForeArm", "LeftHand": "LeftHand",
    "RightShoulder": "RightShoulder", "RightUpperArm": "RightArm", "RightLowerArm": "RightForeArm",
    "RightHand": "RightHand", "LeftUpperLeg": "LeftUpLeg", "LeftLowerLeg": "LeftLeg", "LeftFoot": "LeftFoot",
    "LeftToes": "LeftToeBase", "RightUpperLeg": "RightUpLeg", "RightLowerLeg": "RightLeg", "RightFoot": "RightFoot",
    "RightToes": "RightToeBase",
}
# the fingers: Unity's LeftThumbProximal ... RightLittleDistal -> LeftHandThumb1 ... RightHandPinky3 (Mixamo's names)
BONES.update({f"{side}{unity}{part}": f"{side}Hand{ours}{k}" for side in ("Left", "Right")
              for unity, ours in (("Thumb", "Thumb"), ("Index", "Index"), ("Middle", "Middle"), ("Ring", "Ring"),
                                  ("Little", "Pinky"))
              for k, part in ((1, "Proximal"), (2, "Intermediate"), (3, "Distal"))})


# -- OSC ------------------------------------------------------------------------------------------------------
def _string(data, i):
    end = data.index(b"\0", i)
    return data[i:end].decode("utf-8", "replace"), (end + 4) & ~3


def decode_osc(data):
    """One OSC packet (a message or a bundle, nested) -> ``[(address, [args])]``; types s, f, i, d, T, F."""
    if data.startswith(b"#bundle\0"):
        out, i = [], 16  # tag + 8-byte time tag
        while i + 4 <= len(data):
            (n,) = struct.unpack(">i", data[i:i + 4])
            out += decode_osc(data[i + 4:i + 4 + n])
            i += 4 + n
        return out
    address, i = _string(data, 0)
    tags, i = _string(data, i)
    args = []
    for t in tags[1:]:
        if t == "f":
            args.append(struct.unpack(">f", data[i:i + 4])[0])
            i += 4
        elif t == "i":
            args.append(struct.unpack(">i", data[i:i + 4])[0])
            i += 4
        elif t == "d":
            args.append(struct.unpack(">d", data[i:i + 8])[0])
            i += 8
        elif t == "s":
            s, i = _string(data, i)
            args.append(s)
        elif t in "TF":
            args.append(t == "T")
        else:
            raise ValueError(f"OSC type {t!r} not handled")
    return [(address, args)]


# -- poses ----------------------------------------------------------------------------------------------------
def unity_to_blender_quaternion(x, y, z, w):
    """A Unity rotation (left-handed, Y up, facing +Z, right hand +X) -> Blender's frame (Z up, facing -Y, left
    hand +X): mirror x, then Y up -> Z up. Returns (w, x, y, z)."""
    # mirror x: (x, y, z, w) -> (x, -y, -z, w); then the axes map (x, y, z) -> (x, -z, y)
    qx, qy, qz = x, -y, -z
    return w, qx, -qz, qy


def unity_to_blender_position(x, y, z):
    return -x, -z, y


def find_bone(pose_bones, unity_name):
    plain = BONES.get(unity_name)
    if plain is None:
        return None
    for name in (f"mixamorig:{plain}", plain, unity_name):
        if name in pose_bones:
            return pose_bones[name]
    return None


class Receiver:
    """A UDP socket on ``(host, port)`` and the newest pose received: :meth:`poll` reads every datagram waiting
    (non-blocking) and returns the bones of the last complete frame ``{name: (position, quaternion)}``."""

    def __init__(self, host="127.0.0.1", port=39539):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.frames = 0
        self.errors = 0

    def poll(self):
        latest = None
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            try:
                messages = decode_osc(data)
            except (ValueError, struct.error, UnicodeDecodeError):
                self.errors += 1
                continue
            bones = {a[0]: (a[1:4], a[4:8]) for addr, a in messages if addr == "/VMC/Ext/Bone/Pos" and len(a) >= 8}
            if bones:
                latest = bones
                self.frames += 1
        return latest

    def close(self):
        self.sock.close()


def apply_pose(armature, bones, scale=1.0):
    """Pose ``armature`` (a Blender object) with ``bones`` from :meth:`Receiver.poll`: each bone's basis rotation
    is the received local rotation seen in that bone's rest frame (rest pose = T-pose), the Hips placed at the
    received position (metres x ``scale`` = armature units). Returns the names of the bones posed."""
    from mathutils import Matrix, Quaternion, Vector

    obj_rot = armature.matrix_world.to_quaternion()
    posed = []
    for name, (pos, q) in bones.items():
        pb = find_bone(armature.pose.bones, name)
        if pb is None:
            continue
        rest = pb.bone.matrix_local.to_quaternion()  # armature space
        L = obj_rot.inverted() @ Quaternion(unity_to_blender_quaternion(*q)) @ obj_rot  # in armature space
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = rest.inverted() @ L @ rest
        if name == "Hips":
            world = Vector(unity_to_blender_position(*pos)) * scale
            local = armature.matrix_world.inverted() @ world  # armature space
            pb.location = rest.inverted() @ (local - pb.bone.head_local)
        posed.append(pb.name)
    return posed


# -- Blender UI -----------------------------------------------------------------------------------------------
_state = {"receiver": None, "armature": None}


def _tick():
    import bpy

    rx, name = _state["receiver"], _state["armature"]
    if rx is None:
        return None
    obj = bpy.data.objects.get(name)
    bones = rx.poll()
    if obj is not None and bones:
        props = bpy.context.scene.mocap_vmc
        apply_pose(obj, bones, props.scale)
        if props.record:
            frame = bpy.context.scene.frame_current
            for pb in obj.pose.bones:
                pb.keyframe_insert("rotation_quaternion", frame=frame)
            hips = find_bone(obj.pose.bones, "Hips")
            if hips is not None:
                hips.keyframe_insert("location", frame=frame)
            bpy.context.scene.frame_set(frame + 1)
    return 1.0 / 120.0


def register():
    import bpy

    class MocapVMCProps(bpy.types.PropertyGroup):
        host: bpy.props.StringProperty(name="Address", default="127.0.0.1")
        port: bpy.props.IntProperty(name="Port", default=39539, min=1, max=65535)
        armature: bpy.props.PointerProperty(name="Armature", type=bpy.types.Object,
                                            poll=lambda self, obj: obj.type == "ARMATURE")
        scale: bpy.props.FloatProperty(name="Scale", default=1.0, min=1e-4, description="armature units per metre")
        record: bpy.props.BoolProperty(name="Record", default=False, description="key every pose received")

    class MOCAP_OT_vmc_start(bpy.types.Operator):
        bl_idname = "mocap.vmc_start"
        bl_label = "Start VMC receiver"

        def execute(self, context):
            props = context.scene.mocap_vmc
            if props.armature is None:
                self.report({"ERROR"}, "choose an armature first")
                return {"CANCELLED"}
            stop()
            try:
                _state["receiver"] = Receiver(props.host, props.port)
            except OSError as e:
                self.report({"ERROR"}, f"cannot listen on {props.host}:{props.port}: {e}")
                return {"CANCELLED"}
            _state["armature"] = props.armature.name
            bpy.app.timers.register(_tick)
            return {"FINISHED"}

    class MOCAP_OT_vmc_stop(bpy.types.Operator):
        bl_idname = "mocap.vmc_stop"
        bl_label = "Stop VMC receiver"

        def execute(self, context):
            stop()
            return {"FINISHED"}

    class MOCAP_PT_vmc(bpy.types.Panel):
        bl_label = "VMC receiver"
        bl_space_type = "VIEW_3D"
        bl_region_type = "UI"
        bl_category = "VMC"

        def draw(self, context):
            props = context.scene.mocap_vmc
            for p in ("host", "port", "armature", "scale", "record"):
                self.layout.prop(props, p)
            rx = _state["receiver"]
            if rx is None:
                self.layout.operator("mocap.vmc_start")
            else:
                self.layout.label(text=f"listening: {rx.frames} frames")
                self.layout.operator("mocap.vmc_stop")

    _state["classes"] = [MocapVMCProps, MOCAP_OT_vmc_start, MOCAP_OT_vmc_stop, MOCAP_PT_vmc]
    for cls in _state["classes"]:
        bpy.utils.register_class(cls)
    bpy.types.Scene.mocap_vmc = bpy.props.PointerProperty(type=MocapVMCProps)


def stop():
    import bpy

    if _state["receiver"] is not None:
        _state["receiver"].close()
        _state["receiver"] = None
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)


def unregister():
    import bpy

    stop()
    del bpy.types.Scene.mocap_vmc
    for cls in reversed(_state.pop("classes", [])):
        bpy.utils.unregister_class(cls)

